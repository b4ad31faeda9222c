"""A mini-CLIP trained on the candidate stroke corpus (`stroke_corpus.py`), then read zero-shot on the Colored MNIST
test split: does a mini-CLIP that sees digits come out of that corpus? Writes nothing into the package.

    python benchmarks/corpus_clip.py [--patch 8] [--steps 1500] [--n-per-digit 2000] [--sources sklearn,fonts,hand] [--out /tmp/corpus_clip]

Measured on 2 CPU cores (one thread), 2026-12-01, 20,000 masks each painted once as `digits_corpus` paints (digit
white with probability 0.3, background any other palette colour):
- patch 8 (the shipped architecture), 1,500 steps of batch 128: digit 34.7%, colour 100% (475 s of training);
- the shipped mini-CLIP (sklearn's scans upscaled, 1,000 steps): digit 22.9%, colour 100%;
- patch 8, 1,500 steps, `--bg-per-batch 2` (hard negatives: each batch from two backgrounds, so that within a
  background only the digit and its colour tell the captions apart): digit 14.7%, colour 100%, final loss 3.09
  (2026-12-01, 654 s of training on one thread next to other jobs). Worse than uniform batches: harder negatives do
  not make this vision tower learn digit shapes in 1,500 steps.
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, pandas as pd, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stroke_corpus import stroke_masks
import fairsynth_nb.minisd as ms
from fairsynth_nb.minisd import paint_mask, PALETTE, DIGIT_WORDS
from fairsynth_nb.models import load_clip
from fairsynth_nb.cluster import clip_zero_shot
from fairsynth_nb.data import colored_mnist


def painted(masks, digits, seed=0, white_frac=0.3, jitter=12.) -> pd.DataFrame:
    "The masks painted as `digits_corpus` paints sklearn's scans: a corpus table for `train_clip`."
    rng = np.random.default_rng(seed); names = list(PALETTE); rows = []
    for m, d in zip(masks, digits):
        fg = 'white' if rng.random() < white_frac else names[rng.integers(len(names))]
        bg = names[rng.integers(len(names))]
        while bg == fg: bg = names[rng.integers(len(names))]
        rows.append(dict(image=paint_mask(m, fg, bg, jitter, rng), digit=int(d), fg=fg, bg=bg, split='train'))
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--patch', type=int, default=8); ap.add_argument('--steps', type=int, default=1500)
    ap.add_argument('--bg-per-batch', type=int, default=None, help="hard negatives: each batch from this many backgrounds")
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--vision-width', type=int, default=128); ap.add_argument('--vision-layers', type=int, default=3)
    ap.add_argument('--digit-bank', type=float, default=1.0, help="weight of the ten digit captions every image meets (0: off)")
    ap.add_argument('--n-per-digit', type=int, default=2000); ap.add_argument('--out', default='/tmp/corpus_clip')
    ap.add_argument('--sources', default='sklearn,fonts', help="stroke_masks' sources: some of sklearn, fonts, hand")
    ap.add_argument('--threads', type=int, default=int(os.environ.get('FAIRSYNTH_THREADS', 2)))
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    t0 = time.time()
    masks, digits, _, _ = stroke_masks(a.n_per_digit, seed=0, split='train', sources=tuple(a.sources.split(',')))
    corpus = painted(masks, digits); t_gen = time.time() - t0
    if (a.patch, a.vision_width, a.vision_layers) != (8, 128, 3):    # the vision tower's shape (the shipped one: 8, 128, 3)
        orig = ms.clip_config
        def config(*args, **kw):
            c = orig(*args, **kw); v = c.vision_config
            v.patch_size, v.hidden_size, v.intermediate_size, v.num_hidden_layers = a.patch, a.vision_width, 2 * a.vision_width, a.vision_layers
            return c
        ms.clip_config = config
    info = ms.train_clip(corpus, Path(a.out), steps=a.steps, lr=a.lr, bg_per_batch=a.bg_per_batch, digit_bank=a.digit_bank, quiet=True)
    test = colored_mnist(0.99, seed=0); test = test[test.split == 'test']
    model, proc = load_clip(Path(a.out)/'miniclip', device='cpu')
    C = ['red', 'green']
    dig = clip_zero_shot(list(test.image), model, proc, [[f"a photo of the digit {w} in white on a {c} background" for c in C] for w in DIGIT_WORDS])
    col = np.array(C)[clip_zero_shot(list(test.image), model, proc, [[f"a photo of a digit on a {c} background"] for c in C])]
    res = dict(vision=(a.patch, a.vision_width, a.vision_layers), digit_bank=a.digit_bank, sources=a.sources, templates=len(ms.CAPTION_TEMPLATES), patch=a.patch, steps=a.steps, bg_per_batch=a.bg_per_batch, lr=a.lr, n=len(corpus), corpus_s=round(t_gen), train_s=info['seconds'],
               final_loss=info['final_loss'], digit=float(np.mean(dig == test.digit.values)),
               colour=float(np.mean(col == test.colour.values)),
               per_digit=[round(float(np.mean(dig[test.digit.values == d] == d)), 2) for d in range(10)])
    print(json.dumps(res))

if __name__ == '__main__': main()
