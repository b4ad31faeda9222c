"""Which finetuning recipe makes an adapter draw its group (issue 20): DreamBooth-LoRA variants trained on one Colored
MNIST train group (severity 0.99, seed 0), or on the images of some digits of it (as a digit-pure cluster of Clustered
DreamBooth), each sampled at several guidance scales and read by the reader trained on real Colored MNIST (`reader.py`).

A variant is NAME:STEPS:PRIOR:EMPTY[:LR[:BATCH]]: `max_train_steps`, `with_prior_preservation` (1/0, on `--class-images`
images of the base model), `proportion_empty_prompts` (caption dropout), the learning rate (1e-3) and `train_batch_size`
(16). The other settings are FinetuneConfig's defaults (rank 16 on attention, ResNet convolutions and MLPs, the `sks`
token).

Usage: python benchmarks/adapter_recipe.py --group 2 --variants prior150:150:1:0 np400:400:0:0 [--digits 5] [--guidance 2 4 7]
       [--n 64] [--out /tmp/adapter_recipe]   (FAIRSYNTH_THREADS sets torch's threads, 2 by default)
"""
import argparse, os, sys, time
from pathlib import Path
import numpy as np, torch
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from reader import read
from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, group_prompt, class_prompt
from fairsynth_nb.models import load_pipeline, generate
from fairsynth_nb.finetune import train_adapter, class_images
from fairsynth_nb.generate import load_adapter

p = argparse.ArgumentParser()
p.add_argument('--group', type=int, default=2)
p.add_argument('--digits', type=int, nargs='*', help='train on these digits of the group only (a digit-pure cluster)')
p.add_argument('--variants', nargs='+', required=True)
p.add_argument('--guidance', type=float, nargs='+', default=[2., 4., 7.])
p.add_argument('--n', type=int, default=64)
p.add_argument('--class-images', type=int, default=32)
p.add_argument('--out', default='/tmp/adapter_recipe')
a = p.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
cm = colored_mnist(0.99, seed=0)
tr = cm[(cm.split == 'train') & (cm.group == a.group)]
if a.digits: tr = tr[tr.digit.isin(a.digits)]
y, att = a.group // 2, a.group % 2
pipe = load_pipeline(device='cpu')
prompt, cprompt = group_prompt(cm, y, att, 'sks'), class_prompt(cm, y, att)
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
print(f"group {a.group} (y={y}, a={att}){' digits ' + ','.join(map(str, a.digits)) if a.digits else ''}: {len(tr)} train images, "
      f"prompt {prompt!r}; {a.n} images per guidance, seed 1; share read as the group (class y and colour a)")
for v in a.variants:
    name, steps, prior, empty, *rest = v.split(':')
    lr, bs = (rest + ['', ''])[:2]
    cfg = FinetuneConfig(max_train_steps=int(steps), with_prior_preservation=prior == '1', proportion_empty_prompts=float(empty),
                         learning_rate=float(lr or 1e-3), train_batch_size=int(bs or 16), num_class_images=a.class_images, seed=0)
    cls = class_images(pipe, cprompt, a.class_images, out/'_class_images', 0) if cfg.with_prior_preservation else None
    tag = f"g{a.group}{'_d' + ''.join(map(str, a.digits)) if a.digits else ''}_{name}"
    t = time.time()
    train_adapter(pipe, list(tr.image), prompt, out/tag, cfg, class_images=cls, class_prompt=cprompt, progress=False)
    secs = time.time() - t
    load_adapter(pipe, out/tag, 'x')
    cells = []
    for gs in a.guidance:
        ims = generate(pipe, prompt, n=a.n, guidance_scale=gs, seed=1)
        _, ry, ra = read(list(ims))
        cells.append(f"g{gs:g} {np.mean((ry == y) & (ra == att)):.3f}")
        rows = [np.concatenate(list(ims[i * 8:(i + 1) * 8]), 1) for i in range(min(4, len(ims) // 8))]
        Image.fromarray(np.concatenate(rows, 0)).resize((512, 64 * len(rows)), Image.NEAREST).save(out/f'{tag}_gs{gs:g}.png')
    pipe.delete_adapters('x')
    print(f"{name:>10}  trained {secs:5.0f} s (or read from {out/tag})   " + '   '.join(cells), flush=True)
