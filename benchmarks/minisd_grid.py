"""Save the grid of prompts x samples of mini-SD (the picture shown in nbs/03_minisd.ipynb) as a PNG.

    python benchmarks/minisd_grid.py [--model DIR] [--out benchmarks/minisd_grid.png] [--guidance G]
"""
import argparse, os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import matplotlib; matplotlib.use('Agg')
import torch
from fairsynth_nb.core import save_fig
from fairsynth_nb.minisd import sample_grid
from fairsynth_nb.models import load_pipeline, DEFAULT_GUIDANCE

ap = argparse.ArgumentParser(); ap.add_argument('--model', default=None)
ap.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'minisd_grid.png'))
ap.add_argument('--guidance', type=float, default=DEFAULT_GUIDANCE); ap.add_argument('--n', type=int, default=8)
a = ap.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
fig = sample_grid(load_pipeline(a.model, device='cpu'), n=a.n, guidance_scale=a.guidance)
print('saved', save_fig(fig, a.out))
