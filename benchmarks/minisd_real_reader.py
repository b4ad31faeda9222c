"""mini-SD base, prompted for a digit and a colour, read by a reader trained on *real* Colored MNIST (issue 20's target:
digit >= 97%, colour >= 99%). Prompts "a photo of the digit <d> in white on a <red|green> background", 10 digits x 2
colours x `--n` images, 25 steps, the model's default guidance; `benchmarks/reader.py` reads them (a CNN trained on the
5,000 MNIST digits in grey for the digit; the frame's mean colour for red or green). Also saves a grid.

    python benchmarks/minisd_real_reader.py [--model FOLDER] [--n 8] [--seed 0] [--grid minisd_real_reader.png]
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from reader import read
from fairsynth_nb.minisd import DIGIT_WORDS
from fairsynth_nb.models import load_pipeline, generate, image_grid


def main():
    p = argparse.ArgumentParser(); p.add_argument('--model', default=None); p.add_argument('--n', type=int, default=8)
    p.add_argument('--seed', type=int, default=0); p.add_argument('--grid', default=None)
    a = p.parse_args()
    pipe = load_pipeline(a.model, device='cpu')
    prompts, digits, colours = [], [], []
    for c, colour in enumerate(('red', 'green')):
        for d, w in enumerate(DIGIT_WORDS):
            prompts.append(f"a photo of the digit {w} in white on a {colour} background"); digits.append(d); colours.append(c)
    t = time.time(); ims = generate(pipe, prompts, n=a.n, seed=a.seed); secs = time.time() - t
    d_true, c_true = np.repeat(digits, a.n), np.repeat(colours, a.n)
    d, _, col = read(list(ims))
    per = pd.Series(d == d_true).groupby(d_true).mean()
    print(f"model {a.model or 'shipped mini-SD'}: {len(ims)} images in {secs:.0f} s; digit read right {np.mean(d == d_true):.3f} "
          f"(worst digit {per.idxmin()}: {per.min():.2f}), colour {np.mean(col == c_true):.3f}")
    print('per digit:', ' '.join(f'{k}:{v:.2f}' for k, v in per.items()))
    if a.grid:
        import matplotlib; matplotlib.use('Agg')
        fig = image_grid(ims.reshape(20, a.n, *ims.shape[1:])[:, :min(a.n, 8)].reshape(-1, *ims.shape[1:]), rows=20)
        fig.savefig(a.grid, dpi=80, bbox_inches='tight')


if __name__ == '__main__': main()
