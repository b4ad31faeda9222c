"""Stable Diffusion 1.5-sized checks on a GPU (issues 5, 6, 8 and 9), with random weights built from SD 1.5's
configuration (nothing can be downloaded on the machines this runs on: the speeds and memory are those of the real model,
the images are noise).

Parts (each prints one `RESULT {...}` JSON line and adds it to <out>/gpu_sd15.json):
- build:    the pipeline folder (UNet 860M, VAE 84M, CLIP ViT-L/14 text encoder 123M; fp16 safetensors) and a CLIP
            ViT-L/14-sized CLIPModel folder for clustering and filtering.
- finetune: steps/s of LoRA-DreamBooth at 512x512, batch 1 (+1 class image), fp16 mixed precision: fairsynth's engine
            (cached latents and embeddings) and the diffusers-style loop (benchmarks/diffusers_loop.py); peak GPU memory.
- speed:    the finetuning speed-up measured more carefully: --rounds rounds, each the diffusers-style loop then the
            engine (attention LoRA, rank 4), interleaved so that drift hits both; where the reference step goes (data,
            VAE, text encoder, UNet; the bound on what caching can gain); K = 4 cluster adapters x steps/4 against one
            adapter x steps (issue 5's <= 1.2x).
- compile:  the engine with `compile_unet=True` (the UNet compiled in place, torch.compile's default mode): a first
            adapter (the compile: its first step's seconds), then --rounds rounds of the diffusers-style loop (on a
            second, uncompiled copy of the pipeline) and a compiled-engine adapter, each timed whole.
- generate: images/s at 512x512, 25 steps, guidance 7.5: the base model, the batched generator with two LoRA adapters
            fused in turn, and the naive loop (load the pipeline and one adapter, batch 1); peak GPU memory.
- ddm:      DDM's LoRA + indicator training steps/s and indicator-guided sampling images/s (issue 9).
- pipeline: `run_pipeline` end to end on a small Waterbirds-layout folder with this model and CLIP (issue 8's real
            scale): every stage's seconds.

Usage: python benchmarks/gpu_sd15.py [--out DIR] [--parts build,finetune,speed,generate,ddm,pipeline] [--tiny] [--rounds 3]
(--tiny: a miniature of the same shapes at 128x128 on the CPU, to check the script itself.)
"""
import argparse, json, os, resource, shutil, sys, tempfile, time, traceback
from pathlib import Path
import numpy as np, torch

sys.path.insert(0, str(Path(__file__).parent))
import diffusers_loop

p = argparse.ArgumentParser()
p.add_argument('--out', default='gpu_sd15_out'); p.add_argument('--parts', default='build,finetune,generate,ddm,pipeline')
p.add_argument('--tiny', action='store_true'); p.add_argument('--steps', type=int, default=100)
p.add_argument('--images', type=int, default=32); p.add_argument('--rounds', type=int, default=3)
a = p.parse_args()
OUT = Path(a.out); OUT.mkdir(parents=True, exist_ok=True)
KEEP = 'GPU_SD15_WORK' in os.environ           # a folder kept between calls: the models are built once
WORK = Path(os.environ['GPU_SD15_WORK']) if KEEP else Path(tempfile.mkdtemp(prefix='gpu_sd15_'))
WORK.mkdir(parents=True, exist_ok=True)
CUDA = torch.cuda.is_available()
DEV = 'cuda' if CUDA else 'cpu'
DTYPE = torch.float16 if CUDA else torch.float32
MP = 'fp16' if CUDA else 'no'
results = {}

def report(name, **kw):
    results[name] = kw
    print('RESULT ' + json.dumps({'part': name, **kw}), flush=True)
    (OUT/'gpu_sd15.json').write_text(json.dumps(results, indent=1))

def sync():
    if CUDA: torch.cuda.synchronize()

def peak_gib():
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if CUDA else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)

def reset_peak():
    if CUDA: torch.cuda.reset_peak_memory_stats()

def part(name):
    def deco(f):
        if name not in a.parts.split(','): return f
        t0 = time.time()
        try: f()
        except Exception as e:
            traceback.print_exc()
            report(name, error=f'{type(e).__name__}: {str(e)[:500]}')
        print(f'[{name}] {time.time() - t0:.1f} s', flush=True)
        return f
    return deco

from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.minisd import build_tokenizer, save_tokenizer, make_schedulers, n_params
from fairsynth_nb.models import load_pipeline, generate

SD, CLIP = WORK/'sd15', WORK/'clip_l'

# --- SD 1.5's configuration (runwayml/stable-diffusion-v1-5: unet/, vae/, text_encoder/ config.json) ---
if a.tiny:
    UNET = dict(sample_size=16, block_out_channels=(32, 64, 64, 64), cross_attention_dim=64, attention_head_dim=4)
    VAE = dict(block_out_channels=(32, 32, 64, 64), sample_size=128)
    TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, projection_dim=64)
    VISION = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8)
else:
    UNET = dict(sample_size=64, block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8)
    VAE = dict(block_out_channels=(128, 256, 512, 512), sample_size=512)
    TEXT = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, projection_dim=768)
    VISION = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=224, patch_size=14)

@part('build')
def build():
    from diffusers import UNet2DConditionModel, AutoencoderKL, StableDiffusionPipeline
    from transformers import CLIPTextModel, CLIPTextConfig, CLIPModel, CLIPConfig, CLIPVisionConfig, CLIPProcessor, CLIPImageProcessor
    if (SD/'model_index.json').is_file() and (CLIP/'config.json').is_file():
        report('build', skipped=f'{SD} and {CLIP} are there'); return
    t0 = time.time()
    tok = build_tokenizer(max_length=77)              # mini-SD's byte-level BPE vocabulary, CLIP's 77 tokens
    text = dict(TEXT, vocab_size=49408, max_position_embeddings=77, hidden_act='quick_gelu',
                bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id)
    with torch.device(DEV):
        torch.manual_seed(0)
        unet = UNet2DConditionModel(in_channels=4, out_channels=4, layers_per_block=2,
            down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',), up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3, **UNET)
        vae = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=('DownEncoderBlock2D',) * 4,
                            up_block_types=('UpDecoderBlock2D',) * 4, layers_per_block=2, latent_channels=4, **VAE)
        te = CLIPTextModel(CLIPTextConfig(**text))
        clip = CLIPModel(CLIPConfig(text_config=text, vision_config=dict(VISION, projection_dim=text['projection_dim']),
                                    projection_dim=text['projection_dim']))
    _, sampler = make_schedulers()
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sampler, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.to(dtype=torch.float16).save_pretrained(SD); save_tokenizer(tok, SD/'tokenizer')
    clip.to(dtype=torch.float16).save_pretrained(CLIP)
    ip = CLIPImageProcessor(size={'shortest_edge': VISION['image_size']}, crop_size=VISION['image_size'])
    CLIPProcessor(image_processor=ip, tokenizer=tok).save_pretrained(CLIP); save_tokenizer(tok, CLIP)
    report('build', unet_params=n_params(unet), vae_params=n_params(vae), text_encoder_params=n_params(te), clip_params=n_params(clip),
           seconds=round(time.time() - t0, 1), device=torch.cuda.get_device_name() if CUDA else 'cpu', torch=torch.__version__)
    del pipe, unet, vae, te, clip
    if CUDA: torch.cuda.empty_cache()

def instance_images(n=64):
    "Colored MNIST train images of one group (upscaled by the pipeline to its resolution) and the group's prompts."
    from fairsynth_nb.data import colored_mnist, group_prompt, class_prompt
    cm = colored_mnist(0.99, seed=0)
    imgs = list(cm[(cm.split == 'train') & (cm.group == 0)].image[:n])
    return imgs, group_prompt(cm, 0, 0, token='sks'), class_prompt(cm, 0, 0)

def train_timed(pipe, images, prompt, out, cfg, cls, cprompt, acc) -> dict:
    "Train one adapter anew into `out` with fairsynth's engine: total seconds, seconds to the end of step 1, steps/s from step 10 on."
    from fairsynth_nb.finetune import train_adapter
    ticks, n = {}, cfg.max_train_steps
    def on_step(s):
        if s in (1, 10, n): sync(); ticks[s] = time.time()
    shutil.rmtree(out, ignore_errors=True); sync(); t0 = time.time()       # anew, not the adapter of an earlier call
    train_adapter(pipe, images, prompt, out, cfg, class_images=cls, class_prompt=cprompt, accelerator=acc, progress=False, on_step=on_step)
    sync()
    return dict(seconds=time.time() - t0, first_step_s=ticks[1] - t0,
                steps_per_s_from_10=(n - 10) / (ticks[n] - ticks[10]) if n > 10 else None)

@part('finetune')
def finetune():
    from accelerate import Accelerator
    from fairsynth_nb.finetune import train_dtype
    cfg = FinetuneConfig(max_train_steps=a.steps, train_batch_size=1, mixed_precision=MP, rank=4, lora_targets='attn',
                         learning_rate=1e-4, checkpointing_steps=10**9, num_class_images=8)
    acc = Accelerator(mixed_precision=MP)
    pipe = load_pipeline(str(SD), device=DEV, torch_dtype=train_dtype(cfg, DEV))
    imgs, prompt, cprompt = instance_images()
    sync(); t0 = time.time()
    cls = list(generate(pipe, [cprompt], n=cfg.num_class_images, seed=0)); sync()
    t_cls = time.time() - t0
    diffusers_loop.diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, 5, 1, acc)      # warm-up
    reset_peak()
    t_ref = diffusers_loop.diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, a.steps, 1, acc)
    mem_ref = peak_gib()
    rows = {}
    for targets in ('attn', 'attn+conv'):
        c = FinetuneConfig(**{**cfg.to_dict(), 'lora_targets': targets, 'rank': 4 if targets == 'attn' else 16})
        reset_peak(); t = train_timed(pipe, imgs, prompt, WORK/f'lora_{targets}', c, cls, cprompt, acc)
        rows[targets] = dict(rank=c.rank, steps_per_s=round(t['steps_per_s_from_10'], 2),
                             steps_per_s_with_caching=round(c.max_train_steps / t['seconds'], 2), peak_gib=peak_gib())
    report('finetune', resolution=UNET['sample_size'] * 8, batch='1 instance + 1 class image', mixed_precision=MP, steps=a.steps,
           diffusers_style_steps_per_s=round(a.steps / t_ref, 2), diffusers_style_peak_gib=mem_ref,
           fairsynth=rows, speedup_attn=round(rows['attn']['steps_per_s_with_caching'] * t_ref / a.steps, 2),
           class_images_per_s=round(cfg.num_class_images / t_cls, 2))

def lora_setup():
    "The speed and compile parts' common ground: LoRA-DreamBooth settings at batch 1, an accelerator, the pipeline, images, prompts, class images."
    from accelerate import Accelerator
    from fairsynth_nb.finetune import train_dtype
    cfg = FinetuneConfig(max_train_steps=a.steps, train_batch_size=1, mixed_precision=MP, rank=4, lora_targets='attn',
                         learning_rate=1e-4, checkpointing_steps=10**9, num_class_images=8)
    pipe = load_pipeline(str(SD), device=DEV, torch_dtype=train_dtype(cfg, DEV))
    imgs, prompt, cprompt = instance_images()
    return cfg, Accelerator(mixed_precision=MP), pipe, imgs, prompt, cprompt, list(generate(pipe, [cprompt], n=cfg.num_class_images, seed=0))

@part('speed')
def speed():
    cfg, acc, pipe, imgs, prompt, cprompt, cls = lora_setup()
    def engine(out, images, steps):
        return train_timed(pipe, images, prompt, out, FinetuneConfig(**{**cfg.to_dict(), 'max_train_steps': steps}), cls, cprompt, acc)['seconds']
    diffusers_loop.diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, 5, 1, acc); engine(WORK/'warm', imgs, 5)   # warm-up
    rounds = []
    for r in range(a.rounds):
        t_ref = diffusers_loop.diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, a.steps, 1, acc)
        t_eng = engine(WORK/'speed', imgs, a.steps)
        rounds.append(dict(diffusers_style_steps_per_s=round(a.steps / t_ref, 2), engine_steps_per_s=round(a.steps / t_eng, 2),
                           speedup=round(t_ref / t_eng, 2)))
        print(rounds[-1], flush=True)
    res = dict(resolution=UNET['sample_size'] * 8, batch='1 instance + 1 class image', mixed_precision=MP, steps=a.steps, rounds=rounds,
               median_speedup=float(np.median([r['speedup'] for r in rounds])))
    report('speed', **res)                                   # what there is so far, in case the call runs out of time
    parts = {k: round(v, 2) for k, v in diffusers_loop.step_parts(pipe, imgs, cls, prompt, cprompt, cfg, 1).items()}
    res.update(reference_step_ms=parts, caching_bound=round(sum(parts.values()) / parts['unet'], 3)); report('speed', **res)
    k = 4; t_one = engine(WORK/'one', imgs, a.steps)
    t_k = sum(engine(WORK/f'c{i}', list(idx), a.steps // k) for i, idx in enumerate(np.array_split(np.array(imgs, dtype=object), k)))
    res['k_adapters'] = dict(k=k, steps_each=a.steps // k, seconds=round(t_k, 1), one_adapter_seconds=round(t_one, 1), ratio=round(t_k / t_one, 2))
    report('speed', **res)
    big, _, _ = instance_images(2000)                        # a whole large group: only the images drawn are encoded
    t_big = engine(WORK/'big', big, a.steps)
    res['large_group'] = dict(images=len(big), steps=a.steps, seconds=round(t_big, 1), steps_per_s_with_caching=round(a.steps / t_big, 2),
                              n_encoded=json.loads((WORK/'big'/'adapter.json').read_text())['n_encoded'])
    report('speed', **res)

@part('compile')
def compile_part():
    from fairsynth_nb.finetune import train_dtype
    cfg, acc, pipe, imgs, prompt, cprompt, cls = lora_setup()
    cfg = FinetuneConfig(**{**cfg.to_dict(), 'compile_unet': True})     # the engine's option: the UNet compiled in place
    ref = load_pipeline(str(SD), device=DEV, torch_dtype=train_dtype(cfg, DEV))   # a second, uncompiled copy for the reference loop
    res = dict(steps=a.steps, rounds=[])
    def engine(name): return {k: v if v is None else round(v, 2) for k, v in train_timed(pipe, imgs, prompt, WORK/name, cfg, cls, cprompt, acc).items()}
    res['first'] = engine('compiled_first'); report('compile', **res)          # the compile, paid once
    diffusers_loop.diffusers_style(ref, imgs, cls, prompt, cprompt, cfg, 5, 1, acc)   # warm-up
    for r in range(a.rounds):                                                   # then rounds in one process, as in `speed`
        t_ref = diffusers_loop.diffusers_style(ref, imgs, cls, prompt, cprompt, cfg, a.steps, 1, acc)
        e = engine('compiled')
        res['rounds'].append(dict(diffusers_style_steps_per_s=round(a.steps / t_ref, 2), compiled_engine_steps_per_s=round(a.steps / e['seconds'], 2),
                                  speedup=round(t_ref / e['seconds'], 2)))
        res['median_speedup'] = float(np.median([r['speedup'] for r in res['rounds']]))
        report('compile', **res)                                                # after each round: a call cut short keeps them

@part('generate')
def generate_speed():
    import pandas as pd
    from fairsynth_nb.generate import generate_rows, load_adapter
    pipe = load_pipeline(str(SD), device=DEV)
    _, prompt, _ = instance_images(1)
    ads = [d for d in (WORK/'lora_attn', WORK/'lora_attn+conv') if d.is_dir()]
    names = {str(d): f'ad{i}' for i, d in enumerate(ads)}
    for d, n in names.items(): load_adapter(pipe, d, n)
    n = a.images
    def rows(adapters):
        return pd.DataFrame(dict(adapter=[adapters[i % len(adapters)] for i in range(n)], prompt=prompt, negative_prompt='', seed=range(n))).sort_values('adapter', kind='stable')
    def timed(df, **kw):
        sync(); t0 = time.time(); k = sum(len(b) for b, _ in generate_rows(pipe, df, names, **kw)); sync()
        return k / (time.time() - t0)
    timed(rows(['']).head(8))                                              # warm-up
    res = {}
    for bs in (1, 8, 16):
        reset_peak(); res[f'base_bs{bs}'] = dict(img_per_s=round(timed(rows(['']), batch_size=bs), 3), peak_gib=peak_gib())
    if names:
        reset_peak(); res['adapters_bs8'] = dict(img_per_s=round(timed(rows(list(names)), batch_size=8), 3), peak_gib=peak_gib(), adapters=len(names))
        # the naive loop: load the pipeline and one adapter, then batch 1 (a quarter of the images: it is slow)
        del pipe; torch.cuda.empty_cache() if CUDA else None
        m = max(2, n // 4); sync(); t0 = time.time()
        for i, (d, nm) in enumerate(names.items()):
            p2 = load_pipeline(str(SD), device=DEV); p2.load_lora_weights(d, weight_name='pytorch_lora_weights.safetensors')
            for j in range(m // len(names)):
                p2(prompt, num_inference_steps=25, guidance_scale=7.5, generator=torch.Generator().manual_seed(j), output_type='np')
            del p2
        sync(); res['naive_bs1'] = dict(img_per_s=round((m // len(names)) * len(names) / (time.time() - t0), 3))
        res['speedup_batched_vs_naive'] = round(res['adapters_bs8']['img_per_s'] / res['naive_bs1']['img_per_s'], 2)
        res['adapter_overhead_pct'] = round(100 * (res['base_bs8']['img_per_s'] / res['adapters_bs8']['img_per_s'] - 1), 1)
    report('generate', resolution=UNET['sample_size'] * 8, steps=25, guidance=7.5, images=n, dtype=str(DTYPE), **res)

@part('ddm')
def ddm():
    from accelerate import Accelerator
    from fairsynth_nb.ddm import train_ddm, load_indicator, ddm_generate
    from fairsynth_nb.finetune import train_dtype
    from fairsynth_nb.data import colored_mnist, prompt_words
    cfg = FinetuneConfig(max_train_steps=max(20, a.steps // 2), train_batch_size=1, gradient_accumulation_steps=4, mixed_precision=MP,
                         rank=8, learning_rate=1e-4, checkpointing_steps=10**9, with_prior_preservation=False)
    pipe = load_pipeline(str(SD), device=DEV, torch_dtype=train_dtype(cfg, DEV))
    cm = colored_mnist(0.9, seed=0)
    tr = cm[(cm.split == 'train') & (cm.y == 1)].head(64)
    shutil.rmtree(WORK/'ddm', ignore_errors=True)
    reset_peak(); sync(); t0 = time.time()
    r = train_ddm(pipe, list(tr.image), 'a photo of a digit', WORK/'ddm', tr.a.values, cfg, progress=False, accelerator=Accelerator(mixed_precision=MP))
    sync(); t_train = time.time() - t0; mem_train = peak_gib()
    ind = load_indicator(WORK/'ddm')
    pipe2 = load_pipeline(str(SD), device=DEV)
    pipe2.load_lora_weights(WORK/'ddm', weight_name='pytorch_lora_weights.safetensors')
    reset_peak(); sync(); t0 = time.time()
    ims, tg = ddm_generate(pipe2, 'a photo of a digit', 8, ind, seed=0)
    sync(); t_gen = time.time() - t0
    sync(); t0 = time.time(); ddm_generate(pipe2, 'a photo of a digit', 8, None, seed=0); sync(); t_plain = time.time() - t0
    report('ddm', steps=r['steps'], accumulation=4, train_steps_per_s=round(r['steps'] / t_train, 2), train_peak_gib=mem_train,
           indicator_params=sum(p.numel() for p in ind.parameters()), guided_img_per_s=round(8 / t_gen, 3),
           plain_img_per_s=round(8 / t_plain, 3), images_finite=bool(np.isfinite(ims.astype(float)).all()), image_shape=list(ims.shape))

@part('pipeline')
def pipeline():
    from fairsynth_nb.data import make_waterbirds_fixture
    from fairsynth_nb.pipeline import real_config, run_pipeline
    root = make_waterbirds_fixture(WORK/'waterbirds', n_per_group=12)
    cfg = real_config('waterbirds', root, model=str(SD), clip_model=str(CLIP))
    cfg.finetune.max_train_steps, cfg.finetune.num_class_images = 30, 4
    cfg.cluster.k_max = 2
    cfg.generate.n_per_group = 8
    cfg.train.seeds, cfg.train.epochs, cfg.train.stage1_epochs, cfg.train.stage2_epochs = [0], 1, 1, 1
    cfg.train.methods, cfg.train.pretrained = ['erm', 'two_stage'], False
    if a.tiny: cfg.train.size = 32
    t0 = time.time(); reset_peak()
    shutil.rmtree(WORK/'run', ignore_errors=True)
    m = run_pipeline(WORK/'run', cfg, generators=['clustered'])
    stages = {}
    for f in sorted((WORK/'run'/'.markers').glob('*.json')):
        stages[f.stem] = json.loads(f.read_text()).get('seconds')
    report('pipeline', seconds=round(time.time() - t0, 1), peak_gib=peak_gib(), stage_seconds=stages,
           methods=sorted(m) if isinstance(m, dict) else None,
           two_stage_worst_group=(m or {}).get('two_stage-clustered', {}).get('worst_group_acc'))

print('done', json.dumps(results))
if not KEEP: shutil.rmtree(WORK, ignore_errors=True)
