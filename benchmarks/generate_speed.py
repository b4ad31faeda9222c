"""Generation speed on mini-SD (issue 6).

1. Images/s of the batched multi-adapter generator (one pipeline, K adapters loaded once, switched with set_adapters,
   batches of B) against a naive loop (for each cluster: load the pipeline and its adapter, generate at batch 1),
   the same images (prompts and seeds).
2. Overhead of adapter switching: the same batches through the base model alone (no adapter) against the adapters.

Usage: python benchmarks/generate_speed.py [--k 4] [--per-adapter 32] [--batch 64] [--steps 25] [--threads 2]
"""
import argparse, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch

p = argparse.ArgumentParser()
p.add_argument('--k', type=int, default=4); p.add_argument('--per-adapter', type=int, default=32)
p.add_argument('--batch', type=int, default=64); p.add_argument('--steps', type=int, default=25); p.add_argument('--threads', type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, group_prompt
from fairsynth_nb.models import load_pipeline
from fairsynth_nb.finetune import train_adapter
from fairsynth_nb.generate import generate_rows, load_adapters

tmp = Path(tempfile.mkdtemp())
cm = colored_mnist(0.99, seed=0)
tr = cm[cm.split == 'train']
pipe = load_pipeline(device='cpu')
paths = []
for i in range(a.k):      # K small adapters (their quality does not matter for speed)
    g = [0, 3][i % 2]
    train_adapter(pipe, list(tr[tr.group == g].image[i * 50:(i + 1) * 50]), group_prompt(cm, g // 2, g % 2, 'sks'), tmp/f'ad{i}',
                  FinetuneConfig(max_train_steps=5, train_batch_size=8, with_prior_preservation=False), progress=False)
    paths.append(f'ad{i}')
rows = pd.DataFrame([dict(adapter=paths[i], prompt=group_prompt(cm, [0, 3][i % 2] // 2, [0, 3][i % 2] % 2, 'sks'), negative_prompt='', seed=1000 * i + j)
                     for i in range(a.k) for j in range(a.per_adapter)])
n = len(rows)

def batched():
    pipe = load_pipeline(device='cpu'); names = load_adapters(pipe, rows, tmp)
    out = {}
    for b, ims in generate_rows(pipe, rows, names, a.steps, batch_size=a.batch):
        for s, im in zip(b.seed, ims): out[s] = im
    return out

def naive(fuse=False):
    "diffusers' default use: load the pipeline and the adapter (not fused), generate one image at a time"
    out = {}
    for path, part in rows.groupby('adapter', sort=False):
        pipe = load_pipeline(device='cpu'); names = load_adapters(pipe, part, tmp)
        for b, ims in generate_rows(pipe, part, names, a.steps, batch_size=1, fuse=fuse):
            out[int(b.seed.iloc[0])] = ims[0]
    return out

def base_only():
    pipe = load_pipeline(device='cpu')
    r = rows.assign(adapter='')
    t0 = time.time()
    for _ in generate_rows(pipe, r, {}, a.steps, batch_size=a.batch): pass
    return time.time() - t0

t0 = time.time(); ob = batched(); tb = time.time() - t0
t0 = time.time(); on = naive(); tn = time.time() - t0
diff = max(np.abs(ob[s].astype(int) - on[s]).max() for s in ob)
print(f"batched multi-adapter: {n / tb:.1f} images/s ({tb:.1f} s, {a.k} adapters, batch {a.batch}, {a.steps} steps)")
print(f"naive loop (reload pipeline + adapter per cluster, batch 1): {n / tn:.1f} images/s ({tn:.1f} s)")
print(f"speed-up: {tn / tb:.1f}x; largest pixel difference between the two sets: {diff} / 255")
t0 = time.time(); naive(fuse=True); tnf = time.time() - t0
print(f"naive loop with each adapter fused: {n / tnf:.1f} images/s ({tnf:.1f} s); speed-up of batching alone: {tnf / tb:.1f}x")
# switching overhead: the batched run includes loading; time the generation alone
pipe = load_pipeline(device='cpu'); names = load_adapters(pipe, rows, tmp)
t0 = time.time()
for _ in generate_rows(pipe, rows, names, a.steps, batch_size=a.batch): pass
ta = time.time() - t0
tbase = base_only()
print(f"with adapters (switching between {a.k}): {ta:.2f} s; base model alone: {tbase:.2f} s; overhead {100 * (ta / tbase - 1):+.1f}%")
