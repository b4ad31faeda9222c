"""Finetuning speed on mini-SD (issue 5).

1. Steps/s of fairsynth's engine (cached latents and text embeddings) against a faithful re-implementation of the inner
   loop of diffusers' examples/dreambooth/train_dreambooth_lora.py (no caching: per-step image transforms, VAE encoding,
   tokenisation and text encoding), same mini-SD, LoRA rank, batch (instance + class images), steps, one process.
2. Total time of K cluster adapters of one group against one adapter trained for the same total steps.
3. Where the reference loop's step goes (data, VAE, text encoder, UNet), timed apart: the bound on what caching can gain.
4. Peak memory (RSS).

Usage: python benchmarks/finetune_speed.py [--steps 60] [--batch 16] [--k 4] [--threads 2] [--compile]
(--compile: 5. the engine with the UNet compiled, compile time apart, last, since the UNet stays compiled.)
"""
import argparse, resource, tempfile, time
from pathlib import Path
import numpy as np, torch

import diffusers_loop

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=60); p.add_argument('--batch', type=int, default=16)
p.add_argument('--k', type=int, default=4); p.add_argument('--threads', type=int, default=2)
p.add_argument('--model', default=None)
p.add_argument('--compile', action='store_true', help='also time the engine with compile_unet=True (torch.compile; minutes to compile)')
a = p.parse_args()
torch.set_num_threads(a.threads)

from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, group_prompt, class_prompt
from fairsynth_nb.models import load_pipeline, generate
from fairsynth_nb.finetune import train_adapter

cm = colored_mnist(0.99, seed=0)
imgs = list(cm[(cm.split == 'train') & (cm.group == 0)].image[:400])
prompt, cprompt = group_prompt(cm, 0, 0, token='sks'), class_prompt(cm, 0, 0)
pipe = load_pipeline(a.model, device='cpu')
cls = [im for im in generate(pipe, [cprompt], n=64, steps=10, seed=0)]
cfg = FinetuneConfig(max_train_steps=a.steps, train_batch_size=a.batch, checkpointing_steps=10**9, num_class_images=64)

# --- the diffusers-style loop (no caching): benchmarks/diffusers_loop.py ---
def diffusers_style(steps): return diffusers_loop.diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, steps, a.batch)

tmp = Path(tempfile.mkdtemp())
diffusers_style(3)                                   # warm-up
t_ref = diffusers_style(a.steps)
t0 = time.time(); train_adapter(pipe, imgs, prompt, tmp/'ours', cfg, class_images=cls, class_prompt=cprompt, progress=False); t_ours = time.time() - t0
print(f"diffusers-style loop (no caching): {a.steps / t_ref:.2f} steps/s ({t_ref:.1f} s)")
print(f"fairsynth engine (cached latents + embeddings, caching included): {a.steps / t_ours:.2f} steps/s ({t_ours:.1f} s)")
print(f"speed-up: {t_ref / t_ours:.2f}x  (batch {a.batch} instance + {a.batch} class images, rank {cfg.rank}, {a.threads} threads)")
parts = diffusers_loop.step_parts(pipe, imgs, cls, prompt, cprompt, cfg, a.batch)
print("the reference step, part by part (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
      + f"; the most caching can gain: {sum(parts.values()) / parts['unet']:.2f}x")

# --- K cluster adapters against one adapter of the same total steps ---
k_steps = a.steps // a.k
parts = np.array_split(np.arange(len(imgs)), a.k)
t0 = time.time(); train_adapter(pipe, imgs, prompt, tmp/'one', FinetuneConfig(**{**cfg.to_dict(), 'max_train_steps': k_steps * a.k}), class_images=cls, class_prompt=cprompt, progress=False); t_one = time.time() - t0
t0 = time.time()
for i, idx in enumerate(parts):
    train_adapter(pipe, [imgs[j] for j in idx], prompt, tmp/f'c{i}', FinetuneConfig(**{**cfg.to_dict(), 'max_train_steps': k_steps}), class_images=cls, class_prompt=cprompt, progress=False)
t_k = time.time() - t0
print(f"{a.k} cluster adapters x {k_steps} steps: {t_k:.1f} s; one adapter x {k_steps * a.k} steps: {t_one:.1f} s; ratio {t_k / t_one:.2f}")
if a.compile:
    ticks = {}
    def on_step(s):
        if s in (1, 10, a.steps): ticks[s] = time.time()
    t0 = time.time()
    train_adapter(pipe, imgs, prompt, tmp/'compiled', FinetuneConfig(**{**cfg.to_dict(), 'compile_unet': True}), class_images=cls,
                  class_prompt=cprompt, progress=False, on_step=on_step)
    steady = (a.steps - 10) / (ticks[a.steps] - ticks[10])
    print(f"compiled engine: first step after {ticks[1] - t0:.1f} s (the compile), then {steady:.2f} steps/s from step 10: "
          f"{steady * t_ref / a.steps:.2f}x the diffusers-style loop; {a.steps / (time.time() - t0):.2f} steps/s with the compile")
print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
