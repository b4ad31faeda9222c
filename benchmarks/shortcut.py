"""Why two_stage collapses at extreme bias (severity 0.999), and what a stage-1 colour jitter does about it.

At 0.999 a minority group has one or two real images: it gets no adapter of its own, and its synthetic images come
from the bias-aligned group's adapter with the attribute word swapped (the paper's extreme-bias recipe). Part 1 prints
the mean frame colour (RGB) of the real train images and of each generator's kept synthetic images, group by group: if
the swapped-attribute images have a shade of their own, stage 1 can tell the class by the shade, which real test images
do not have. Part 2 (--train) trains two_stage on the same synthetic set with and without a colour jitter on the stage-1
batches (fastai's Hue, Saturation and Brightness: shades move, red stays red and green stays green), several seeds, and
prints the test worst-group and average accuracy.

Usage: python benchmarks/shortcut.py --run runs/sweep/sev0.999 [--generators vanilla lora dreambooth clustered]
       [--train] [--seeds 0 1 2] [--hue 0.05]
"""
import argparse, tempfile
from pathlib import Path
import numpy as np, pandas as pd, torch
from PIL import Image
from fairsynth_nb.core import load_config, group_name
from fairsynth_nb.data import dataset_from_config, colour_mask, load_image
from fairsynth_nb.train import train_method
from fairsynth_nb.evaluate import predict_split, metrics_from_preds

p = argparse.ArgumentParser()
p.add_argument('--run', required=True)
p.add_argument('--generators', nargs='+', default=['vanilla', 'lora', 'dreambooth', 'clustered'])
p.add_argument('--train', action='store_true')
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--hue', type=float, default=0.05)
p.add_argument('--threads', type=int, default=None)
p.add_argument('--grid', default=None, help='save a PNG grid of the minority groups: real train images, then each generator\'s kept ones')
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
run = Path(a.run); cfg = load_config(run); df = dataset_from_config(cfg)
frame = colour_mask(32, 0.25)            # the outer ring: coloured in every Colored MNIST variant

def frame_rgb(images): return np.stack([np.asarray(load_image(i).convert('RGB'), np.float32)[frame].mean(0) for i in images])

rows = []
tr = df[df.split == 'train']
for g, part in tr.groupby('group'):
    rows.append(dict(source='real train', group=group_name(g // 2, g % 2), n=len(part), **dict(zip('RGB', frame_rgb(part.image).mean(0).round(1)))))
for gen in a.generators:
    man = run/'synthetic'/gen/'manifest.csv'
    if not man.exists(): continue
    m = pd.read_csv(man, keep_default_na=False); m = m[m.kept.astype(str) == 'True']
    m['gname'] = [group_name(g // 2, g % 2) if g >= 0 else f'y={y}, a unknown' for g, y in zip(m.group, m.y)]   # ddm: no attribute
    for g, part in m.groupby('gname'):
        rows.append(dict(source=f'{gen} ({part.recipe.iloc[0]})', group=g, n=len(part),
                         **dict(zip('RGB', frame_rgb([man.parent/f for f in part.file]).mean(0).round(1)))))
print(f"mean frame colour (RGB, 0-255) per group, {run}\n" + pd.DataFrame(rows).to_string(index=False), flush=True)

if a.grid:
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    minority = [g for g, n in tr.group.value_counts().sort_index().items() if n < tr.group.value_counts().max() / 4]
    srcs = [('real', None)] + [(gen, run/'synthetic'/gen/'manifest.csv') for gen in a.generators
                               if (run/'synthetic'/gen/'manifest.csv').exists() and gen != 'ddm']     # ddm's images have no group
    n = 8
    fig, axs = plt.subplots(len(srcs), 2 * n, figsize=(2 * n * 0.6, len(srcs) * 0.75 + 0.4), squeeze=False)
    for ax in axs.flat: ax.axis('off')
    for r, (name, man) in enumerate(srcs):
        for j, g in enumerate(minority):
            if man is None: files = list(tr[tr.group == g].image)[:n]
            else:
                m = pd.read_csv(man, keep_default_na=False); m = m[(m.kept.astype(str) == 'True') & (m.group == g)]
                files = [man.parent/f for f in m.file[:n]]
            for c, f in enumerate(files): axs[r, j * n + c].imshow(load_image(f).convert('RGB'))
            axs[r, j * n].set_title(f'{name}: {group_name(g // 2, g % 2)}', fontsize=7, loc='left')
    fig.tight_layout(); fig.savefig(a.grid, dpi=110); print(f'wrote {a.grid}')

if a.train:
    from fairsynth_nb.train import colour_jitter
    jitter = colour_jitter(a.hue)       # what TrainConfig(stage1_jitter=hue) does
    res = []
    for gen in a.generators:
        man = run/'synthetic'/gen/'manifest.csv'
        if not man.exists(): continue
        for name, tfms in (('no jitter', None), (f'jitter (hue {a.hue})', jitter)):
            for s in a.seeds:
                learn = train_method('two_stage', df, manifest=man, cfg=cfg.train, seed=s, path=tempfile.mkdtemp(), stage1_tfms=tfms)
                r = metrics_from_preds(predict_split(learn, df, 'test'))
                s1 = max(h['worst_group_acc'] for h in learn.history if h['stage'] == 'synthetic')
                res.append(dict(generator=gen, stage1=name, seed=s, wga=r['worst_group_acc'], avg=r['avg_acc'], stage1_val_wga=s1))
                print(res[-1], flush=True)
    t = pd.DataFrame(res); t[['wga', 'avg', 'stage1_val_wga']] *= 100
    g = t.groupby(['generator', 'stage1'], sort=False)[['wga', 'avg', 'stage1_val_wga']]
    print('\ntwo_stage, test %, mean ± std over seeds ' + str(a.seeds))
    print((g.mean().round(1).astype(str) + ' ± ' + g.std().fillna(0).round(1).astype(str)).to_string())
