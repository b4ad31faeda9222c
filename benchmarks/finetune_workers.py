"""Finetuning on a CPU: where a step's time goes, and K adapters on worker processes against one process (issue 22).

1. Profile: one training step of mini-SD's UNet with the demo's LoRA (rank 16, attention + convolutions) at batch 1 and
   at the demo's batch 16, on 1 and on 2 torch threads, and the share of the step spent in the convolutions and matrix
   products (torch.profiler): what a second thread can and cannot speed up.
2. The finetuning stage of the lora generator (4 adapters, one per group, 100 steps each by default, batch 16, the demo's
   recipe otherwise) trained
   (a) in this process on all its threads, as before 2026-12-06, and (b) on one worker process of one thread per core
   (`finetune.workers`, the default since 2026-12-06), interleaved `--rounds` times; wall time, adapter steps/s and the
   ratio per round, the median, and whether the two ways made the same adapters.
3. Peak memory (RSS) of this process and of its workers.

Usage: python benchmarks/finetune_workers.py [--steps 100] [--rounds 2] [--threads 2] [--json FILE]
Run it on an otherwise idle machine: other torch jobs on the same cores change every figure.
"""
import argparse, json, os, resource, shutil, statistics, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=100)
p.add_argument('--rounds', type=int, default=2); p.add_argument('--threads', type=int, default=os.cpu_count())
p.add_argument('--json', default=None)
a = p.parse_args()

from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, group_prompt
from fairsynth_nb.models import load_pipeline
from fairsynth_nb.finetune import add_lora, remove_lora, adamw, encode_prompts, run_finetune
from fairsynth_nb.cli import main as cli


def step_ms(pipe, bs, threads, n=8):
    "Milliseconds of one forward + backward + AdamW step of the UNet with the demo's LoRA, at batch `bs` on `threads` threads."
    torch.set_num_threads(threads)
    unet = pipe.unet
    params = add_lora(unet, 16, 'attn+conv'); opt = adamw(params, 1e-3); unet.train()
    cond = encode_prompts(pipe, ['a photo of sks digit on a red background']).expand(bs, -1, -1)
    lat, t = torch.randn(bs, 4, 8, 8), torch.randint(0, 1000, (bs,))
    def one():
        F.mse_loss(unet(lat, t, cond).sample, lat).backward(); opt.step(); opt.zero_grad()
    for _ in range(2): one()
    t0 = time.perf_counter()
    for _ in range(n): one()
    ms = (time.perf_counter() - t0) / n * 1000
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2): one()
    ev = prof.key_averages(); total = sum(e.self_cpu_time_total for e in ev)
    heavy = sum(e.self_cpu_time_total for e in ev if any(k in e.key for k in ('convolution', 'mkldnn', 'aten::mm', 'addmm', 'bmm', 'scaled_dot')))
    remove_lora(unet); unet.eval()
    return ms, heavy / total


def max_diff(x, y):
    "The largest difference between the LoRA weights of the same adapters made two ways (0.0: bit-identical)."
    from safetensors.torch import load
    assert x.keys() == y.keys(), (sorted(x), sorted(y))
    diffs = []
    for k in x:
        a, b = load(x[k]), load(y[k])          # each file read once, not once per tensor
        diffs += [float((a[n] - b[n]).abs().max()) for n in a]
    return max(diffs)


def stage(root, workers):
    "The lora generator's finetuning stage in a fresh run folder (4 adapters), timed; and the adapters' bytes."
    out = Path(root)/f'w{workers}'
    shutil.rmtree(out, ignore_errors=True)
    assert cli(['bias', '--severity', '0.99', '--out', str(out)]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['finetune'].update(max_train_steps=a.steps, checkpointing_steps=10**6, workers=workers, min_images=5)
    (out/'config.json').write_text(json.dumps(cfg))
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter(); run_finetune(out, 'lora', progress=False); dt = time.perf_counter() - t0
    return dt, {f.parent.relative_to(out).as_posix(): f.read_bytes() for f in sorted(out.glob('adapters/lora/*/*/pytorch_lora_weights.safetensors'))}


if __name__ == '__main__':
    pipe = load_pipeline(device='cpu')
    prof = {}
    for bs in (1, 16):
        for th in sorted({1, a.threads}):
            ms, share = step_ms(pipe, bs, th); prof[f'batch {bs}, {th} thread(s)'] = dict(ms_per_step=round(ms, 1), conv_matmul_share=round(share, 3))
            print(f'profile: batch {bs:2d}, {th} thread(s): {ms:6.1f} ms/step, {100 * share:.0f}% in convolutions, matrix products, attention', flush=True)
    del pipe
    root = Path(tempfile.mkdtemp())
    rounds = []
    for r in range(a.rounds):
        one_t, one_w = stage(root, 1)
        many_t, many_w = stage(root, a.threads)
        rounds.append(dict(in_process_s=round(one_t, 1), workers_s=round(many_t, 1), speedup=round(one_t / many_t, 2), adapters=len(one_w),
                           max_weight_diff=max_diff(one_w, many_w)))
        print(f'round {r}: 4 adapters x {a.steps} steps: one process on {a.threads} threads {one_t:.1f} s '
              f'({4 * a.steps / one_t:.2f} steps/s), {a.threads} workers of one thread {many_t:.1f} s ({4 * a.steps / many_t:.2f} steps/s): '
              f"{one_t / many_t:.2f}x; largest weight difference {rounds[-1]['max_weight_diff']:.2g}", flush=True)
    med = statistics.median(x['speedup'] for x in rounds)
    rss = dict(this_process=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               largest_worker=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
    print(f"median speed-up {med:.2f}x; peak RSS {rss} MiB")
    rows = [[f'one step, {k}', f"{v['ms_per_step']} ms", f"{100 * v['conv_matmul_share']:.0f}% of the step in convolutions, matrix products, attention"]
            for k, v in prof.items()]
    rows += [[f'round {i}: 4 adapters x {a.steps} steps', f"{x['in_process_s']} s in one process on {a.threads} threads; {x['workers_s']} s on {a.threads} workers",
              f"{x['speedup']}x; largest LoRA weight difference {x['max_weight_diff']:.2g}"] for i, x in enumerate(rounds)]
    rows.append(['median speed-up', f'{med:.2f}x', f"peak RSS: {rss['this_process']} MiB this process, {rss['largest_worker']} MiB the largest worker"])
    res = dict(title='Finetuning on a CPU: where a step goes, and adapters on worker processes', script='benchmarks/finetune_workers.py',
               machine=f'{os.cpu_count()} CPU cores', date=time.strftime('%Y-%m-%d'),
               settings=f'mini-SD, LoRA rank 16 on attention + convolutions, batch 16, the lora generator on Colored MNIST-5k at 0.99 '
                        f'(4 adapters of {a.steps} steps); each round runs both ways in turn in one call.',
               columns=['what', 'time', 'note'], rows=rows, profile=prof, rounds=rounds, median_speedup=med, peak_rss_mib=rss)
    if a.json: Path(a.json).write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n'); print(a.json)
