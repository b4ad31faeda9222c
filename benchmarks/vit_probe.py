"""Supervised probe of mini-CLIP's vision tower (issue 20): trained with cross-entropy on the digit of painted stroke-corpus
masks alone (no text tower), read on the Colored MNIST test split every 250 steps. An upper bound on what the same tower
can learn about digits from the corpus in that many steps; the CLIP loss learns them more slowly.

    python benchmarks/vit_probe.py [--patch 8] [--steps 1000] [--hidden 128] [--layers 3] [--lr 1e-3] [--sources sklearn,fonts]

Measured on one thread of a 2-core CPU, 2026-12-01, corpus sklearn + fonts (20,000 masks), batch 128, +-2 px shifts:
- patch 8, 4,000-step schedule (stopped at 2,750): 29% at 250 steps, 68% at 750, 75% at 1,000, 78% at 1,500, 80% at 2,500,
  79% at 2,750 (0.17 s a step); with lr 2e-3: 12% / 21% / 27% at 250 / 500 / 750 (stopped);
- patch 8, 1,000-step schedule: 72% at 1,000;
- patch 4: 31% at 250, 49% at 500 (0.65 s a step; stopped), no faster per step than patch 8.
A small CNN on the same corpus reads 88-90% (`corpus_reader.py`): this tower plateaus about ten points lower.
"""
import sys, os, time, json, argparse
os.environ['OMP_NUM_THREADS']='1'
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stroke_corpus import stroke_masks
from corpus_clip import painted
from fairsynth_nb.minisd import _corpus_arrays, _unit_pixels, _augment, _lr_at
from fairsynth_nb.data import colored_mnist
from transformers import CLIPVisionConfig, CLIPVisionModel
ap = argparse.ArgumentParser(); ap.add_argument('--patch', type=int, default=8); ap.add_argument('--steps', type=int, default=1000)
ap.add_argument('--hidden', type=int, default=128); ap.add_argument('--layers', type=int, default=3); ap.add_argument('--lr', type=float, default=1e-3)
ap.add_argument('--sources', default='sklearn,fonts')
a = ap.parse_args()
torch.manual_seed(0)
masks, digits, _, _ = stroke_masks(2000, seed=0, split='train', sources=tuple(a.sources.split(',')))
d = _corpus_arrays(painted(masks, digits))
test = colored_mnist(0.99, seed=0); test = test[test.split=='test']
xt = _unit_pixels(np.stack(test.image.values)); yt = torch.tensor(test.digit.values)
cfg = CLIPVisionConfig(hidden_size=a.hidden, intermediate_size=2*a.hidden, num_hidden_layers=a.layers, num_attention_heads=4, image_size=32, patch_size=a.patch, num_channels=3)
m = CLIPVisionModel(cfg); head = nn.Linear(a.hidden, 10)
params = list(m.parameters()) + list(head.parameters())
print('params', sum(p.numel() for p in m.parameters()))
opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01); gen = torch.Generator().manual_seed(0)
def feats(x): return m(pixel_values=x).pooler_output
t0=time.time()
for s in range(a.steps):
    for g in opt.param_groups: g['lr'] = _lr_at(s, a.steps, a.lr, warmup=min(100, a.steps//10+1))
    idx = torch.randint(len(d['x']), (128,), generator=gen)
    loss = F.cross_entropy(head(feats(_augment(d['x'][idx], gen))), d['digit'][idx])
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
    if (s+1) % 250 == 0:
        with torch.no_grad(): acc = (head(feats(xt)).argmax(1) == yt).float().mean().item()
        print(s+1, round(loss.item(),3), 'mnist acc', round(acc,3), round(time.time()-t0), flush=True)
