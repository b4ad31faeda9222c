"""Generation speed of mini-SD: 64 images, 25 steps, classifier-free guidance (2 UNet passes per step), 2 CPU threads;
then the same through `accelerate` on a GPU where one is available.

    python benchmarks/minisd_speed.py [--model DIR] [--threads 2] [--repeats 3]
"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from fairsynth_nb.models import load_pipeline, generate, DEFAULT_GUIDANCE

PROMPT = "a photo of the digit seven in white on a red background"

def bench(pipe, repeats):
    generate(pipe, PROMPT, n=8, steps=3)  # warm-up
    ts = []
    for r in range(repeats):
        t = time.perf_counter(); ims = generate(pipe, PROMPT, n=64, steps=25, guidance_scale=DEFAULT_GUIDANCE, seed=r)
        ts.append(time.perf_counter() - t)
    assert ims.shape == (64, 32, 32, 3)
    return ts

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--model', default=None)
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ts = bench(load_pipeline(a.model, device='cpu'), a.repeats)
    print(f"CPU, {torch.get_num_threads()} threads: 64 images, 25 steps, CFG {DEFAULT_GUIDANCE}: "
          f"best {min(ts):.2f} s, median {sorted(ts)[len(ts)//2]:.2f} s over {len(ts)} runs (target < 10 s)")
    if torch.cuda.is_available():
        from accelerate import Accelerator
        acc = Accelerator()
        pipe = load_pipeline(a.model, device=acc.device, torch_dtype=torch.float16)
        ts = bench(pipe, a.repeats)
        print(f"GPU via accelerate ({torch.cuda.get_device_name(0)}): 64 images, 25 steps, CFG: best {min(ts):.2f} s")
    else:
        print("GPU via accelerate: skipped (no CUDA device on this machine)")

if __name__ == '__main__': main()
