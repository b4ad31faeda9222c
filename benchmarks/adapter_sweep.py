"""Which finetuning settings make an adapter draw its group (issue 5, adapter fidelity)?

Trains one DreamBooth-LoRA adapter per setting on a Colored MNIST train group (prior preservation on class images of the
base model, as the finetuning stage does), generates `--n` images with the group's DreamBooth prompt, and prints the
share that a reader trained on real data (benchmarks/reader.py) reads as the intended group (class y and colour a),
beside the base model prompted with the group's plain prompt (vanilla).

Usage: python benchmarks/adapter_sweep.py [--groups 3 2] [--variants attn attn+conv attn+conv+te] [--steps 200] [--n 64]
(a variant is the LoRA targets of the UNet; '+te' also trains a LoRA on the text encoder; 'full' trains the whole UNet)
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from reader import read
from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, group_prompt, class_prompt
from fairsynth_nb.models import load_pipeline, generate, DEFAULT_GUIDANCE
from safetensors.torch import load_file
from fairsynth_nb.finetune import train_adapter, class_images, LORA_FILE, UNET_FILE
from fairsynth_nb.generate import load_adapter

p = argparse.ArgumentParser()
p.add_argument('--groups', nargs='+', type=int, default=[3, 2])
p.add_argument('--variants', nargs='+', default=['attn', 'attn+conv'])
p.add_argument('--steps', type=int, default=200)
p.add_argument('--rank', type=int, default=4)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--full-lr', type=float, default=1e-4, help="learning rate of the 'full' variant (the whole UNet)")
p.add_argument('--n', type=int, default=64)
p.add_argument('--guidance', type=float, default=DEFAULT_GUIDANCE)
p.add_argument('--severity', type=float, default=0.99)
p.add_argument('--mode', default='dreambooth', choices=['dreambooth', 'lora'])
p.add_argument('--out', default=None)
a = p.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
df = colored_mnist(a.severity, seed=0)
tr = df[df.split == 'train']
pipe = load_pipeline(device='cpu')
out = Path(a.out or tempfile.mkdtemp())
rows = []
def score(ims, y, att):
    d, yy, aa = read(list(ims))
    return float(np.mean((yy == y) & (aa == att)))
for g in a.groups:
    sub = tr[tr.group == g]; y, att = int(sub.y.iloc[0]), int(sub.a.iloc[0])
    van = generate(pipe, group_prompt('colored_mnist', y, att), n=a.n, guidance_scale=a.guidance, seed=1)
    rows.append(dict(group=g, n_real=len(sub), variant='vanilla', intended=score(van, y, att)))
    cp = class_prompt('colored_mnist', y, att)
    cls = class_images(pipe, cp, 64, out/f'class_g{g}', seed=0)
    for v in a.variants:
        te, full = v.endswith('+te'), v == 'full'   # '<targets>+te': the text encoder trains too; 'full': the whole UNet
        cfg = FinetuneConfig(lora_targets='attn+conv' if full else v.removesuffix('+te'), rank=a.rank,
                             learning_rate=a.full_lr if full else a.lr, max_train_steps=a.steps,
                             with_prior_preservation=a.mode == 'dreambooth', train_text_encoder=te, full_unet=full)
        prompt = group_prompt('colored_mnist', y, att, cfg.instance_token if a.mode == 'dreambooth' else None)
        t0 = time.time()
        res = train_adapter(pipe, list(sub.image), prompt, out/f'{a.mode}_g{g}_{v}_r{a.rank}_s{a.steps}', cfg, class_images=cls, class_prompt=cp, progress=False)
        secs = time.time() - t0
        if full:
            base = {k: w.clone() for k, w in pipe.unet.state_dict().items()}
            pipe.unet.load_state_dict(load_file(out/f'{a.mode}_g{g}_{v}_r{a.rank}_s{a.steps}'/UNET_FILE))
            ims = generate(pipe, prompt, n=a.n, guidance_scale=a.guidance, seed=1)
            pipe.unet.load_state_dict(base)
        else:
            load_adapter(pipe, out/f'{a.mode}_g{g}_{v}_r{a.rank}_s{a.steps}', 'x')
            ims = generate(pipe, prompt, n=a.n, guidance_scale=a.guidance, seed=1)
            pipe.delete_adapters('x')
        rows.append(dict(group=g, n_real=len(sub), mode=a.mode, variant=v, rank=a.rank, steps=a.steps, guidance=a.guidance, intended=score(ims, y, att), train_s=round(secs, 1), loss=round(res['final_loss'], 4)))
        from PIL import Image
        grid = np.concatenate([np.concatenate(list(ims[i*16:(i+1)*16]), 1) for i in range(min(4, len(ims)//16))], 0)
        Image.fromarray(grid).save(out/f'{a.mode}_g{g}_{v}_r{a.rank}_s{a.steps}_cfg{a.guidance:g}.png')
        print(json.dumps(rows[-1]), flush=True)
import pandas as pd
print(pd.DataFrame(rows).to_string(index=False))
print(f"grids in {out}")
