"""Steps against guidance: what an adapter of a large group draws at each classifier-free guidance scale.

Loads adapters made by `benchmarks/adapter_sweep.py --out DIR` (DreamBooth-LoRA on one Colored MNIST train group) and
generates `--n` images with the group's DreamBooth prompt at each guidance scale; a reader trained on real Colored MNIST
(`reader.py`) reads the class (digit 0-4 or 5-9) and the background colour.

Usage: python benchmarks/adapter_guidance.py --group 3 --adapters NAME=DIR [NAME=DIR ...] [--guidance 1 2 4 7] [--n 64]
e.g.   python benchmarks/adapter_sweep.py --groups 3 --variants attn+conv --rank 16 --steps 150 --out /tmp/db150
       python benchmarks/adapter_guidance.py --group 3 --adapters 150=/tmp/db150/dreambooth_g3_attn+conv_r16_s150
"""
import argparse, os, sys
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from reader import read
from fairsynth_nb.data import group_prompt
from fairsynth_nb.models import load_pipeline, generate
from fairsynth_nb.generate import load_adapter

p = argparse.ArgumentParser()
p.add_argument('--group', type=int, default=3)
p.add_argument('--adapters', nargs='+', required=True, help='NAME=FOLDER of an adapter')
p.add_argument('--guidance', type=float, nargs='+', default=[1., 2., 4., 7.])
p.add_argument('--n', type=int, default=64)
p.add_argument('--token', default='sks')
a = p.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
pipe = load_pipeline(device='cpu')
y, att = a.group // 2, a.group % 2
prompt = group_prompt('colored_mnist', y, att, a.token)
print(f"group {a.group} (y={y}, a={att}), prompt {prompt!r}, {a.n} images per cell, seed 1")
print('adapter  guidance  group  class  colour')
for spec in a.adapters:
    name, folder = spec.split('=', 1)
    load_adapter(pipe, folder, 'x')
    for gs in a.guidance:
        _, ry, ra = read(list(generate(pipe, prompt, n=a.n, guidance_scale=gs, seed=1)))
        print(f"{name:>7}  {gs:8g}  {np.mean((ry == y) & (ra == att)):5.3f}  {np.mean(ry == y):5.3f}  {np.mean(ra == att):6.3f}", flush=True)
    pipe.delete_adapters('x')
