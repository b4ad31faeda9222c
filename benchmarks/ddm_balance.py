"""DDM on an imbalanced set: FD, SPD and image quality of plain finetuning, DDM (with labels / with pseudo-labels) and
Clustered DreamBooth, several seeds, on the embedded mini-SD.

The set: the Colored MNIST train images of class 0 (digits 0-4) at severity 0.9 (90% red background, 10% green), one
prompt for all that names no colour. A logistic-regression reader fitted on real labelled images reads each generation's
colour. Quality: Frechet distance between mini-CLIP image embeddings of the generations and of real group-balanced
images of the class (lower is better; it also rewards balance), and of the kept generations of each read colour
against the real images of that colour (quality within a group).

Since 2026-12-01 the reader and the reference images come from the train and val splits only (the rare colour's images
of both, as many of the common colour): the guidance scale chosen here must not have seen the test split. Before, both
were fitted on val + test. `--scales` sweeps the indicator's guidance scale; 0 is plain sampling, as DDM's released code
samples.

Usage: python benchmarks/ddm_balance.py [--seeds 0 1 2] [--steps 300] [--n 128] [--scales 0 0.05 0.1 0.2] [--out runs/ddm_bench]
"""
import argparse, json, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from fairsynth_nb.core import FinetuneConfig
from fairsynth_nb.data import colored_mnist, prompt_words
from fairsynth_nb.finetune import train_adapter, class_images, LORA_FILE
from fairsynth_nb.models import load_pipeline, load_clip, image_grid
from fairsynth_nb.cluster import clip_image_embeddings
from fairsynth_nb.ddm import (train_ddm, load_indicator, ddm_generate, pseudo_labels, attribute_reader, read_attributes,
                              fairness_discrepancy, statistical_parity, frechet_distance)

p = argparse.ArgumentParser()
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--steps', type=int, default=300)
p.add_argument('--n', type=int, default=128, help='images generated per method and seed')
p.add_argument('--scales', type=float, nargs='+', default=[0.0, 0.1], help='guidance scales of the DDM with colour labels (0: plain sampling)')
p.add_argument('--scale', type=float, default=0.1, help='guidance scale of the DDM with pseudo-labels')
p.add_argument('--severity', type=float, default=0.9)
p.add_argument('--out', default='runs/ddm_bench')
p.add_argument('--threads', type=int, default=None)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)

df = colored_mnist(a.severity, seed=0)
tr = df[(df.split == 'train') & (df.y == 0)]
images, colour = list(tr.image), tr.a.to_numpy()
real = df[df.split.isin(['train', 'val'])]                 # never the test split: the scale is chosen on these
reader = attribute_reader(list(real.image), real.a)
c0 = real[real.y == 0]
n_rare = int(c0.a.value_counts().min())
ref = pd.concat([g.sample(n_rare, random_state=0) for _, g in c0.groupby('a')])   # group-balanced reference
prompt = f"a photo of {prompt_words('colored_mnist')['y'][0]}"
pipe = load_pipeline(); clip = load_clip()
eref = clip_image_embeddings(list(ref.image), *clip)
eref_a = {k: clip_image_embeddings(list(ref[ref.a == k].image), *clip) for k in (0, 1)}
print(f"training set: {len(images)} images, colours {np.bincount(colour).tolist()} (red, green); prompt {prompt!r}", flush=True)
pl, info = pseudo_labels(images)          # k by silhouette, as the clustering stage
xt = pd.crosstab(pd.Series(colour, name='colour'), pd.Series(pl, name='cluster'))
print(f"pseudo-labels: k={info['k']} sizes {info['sizes']}\n{xt.to_string()}", flush=True)

def with_adapter(folder, fn):
    pipe.load_lora_weights(str(folder), weight_name=LORA_FILE, adapter_name='bench')
    try: return fn()
    finally: pipe.delete_adapters('bench')

def measure(name, seed, ims, secs):
    pr = read_attributes(reader, list(ims)); hard = pr.argmax(1)
    emb = clip_image_embeddings(list(ims), *clip)
    within = [frechet_distance(emb[hard == k], eref_a[k]) for k in (0, 1) if (hard == k).sum() >= 10]
    r = dict(method=name, seed=seed, green=float(hard.mean()), FD=fairness_discrepancy(pr), SPD=statistical_parity(hard, 2),
             clip_frechet=frechet_distance(emb, eref), clip_frechet_within=float(np.mean(within)) if within else float('nan'),
             seconds=round(secs, 1))
    print(json.dumps(r), flush=True)
    return r

rows, grids = [], {}
for seed in a.seeds:
    cfg = FinetuneConfig(max_train_steps=a.steps, with_prior_preservation=False, checkpointing_steps=100, seed=seed)
    d = out/f's{seed}'
    t = time.time(); train_adapter(pipe, images, prompt, d/'plain', cfg, progress=False); tt = time.time() - t
    t = time.time(); ims = with_adapter(d/'plain', lambda: ddm_generate(pipe, prompt, a.n, seed=seed)[0])
    rows.append(measure('plain LoRA', seed, ims, tt + time.time() - t)); grids.setdefault('plain LoRA', ims[:12])
    for mode, labels in (('labels', colour), ('pseudo-labels', pl)):
        t = time.time(); train_ddm(pipe, images, prompt, d/f'ddm_{mode}', labels, cfg, progress=False); tt = time.time() - t
        term = load_indicator(d/f'ddm_{mode}')
        for sc in (a.scales if mode == 'labels' else [a.scale]):
            t = time.time()
            ims = with_adapter(d/f'ddm_{mode}', lambda: ddm_generate(pipe, prompt, a.n, indicator=term, scale=sc, seed=seed)[0])
            name = f'DDM {mode}, scale {sc}'
            rows.append(measure(name, seed, ims, tt + time.time() - t)); grids.setdefault(name, ims[:12])
    # Clustered DreamBooth: one DreamBooth adapter per cluster (same pseudo-labels), equal quotas
    cdb = FinetuneConfig(max_train_steps=a.steps, checkpointing_steps=100, seed=seed, num_class_images=32)
    cls = class_images(pipe, 'a photo of a digit', cdb.num_class_images, out/'_class_images', seed)
    t = time.time(); parts = []
    ks = [k for k in range(info['k']) if (pl == k).sum() >= cdb.min_images]
    quota = np.diff(np.linspace(0, a.n, len(ks) + 1).round().astype(int))
    for k, q in zip(ks, quota):
        imgs_k = [im for im, l in zip(images, pl) if l == k]
        train_adapter(pipe, imgs_k, 'a photo of sks digit', d/f'cdb_c{k}', cdb, class_images=cls, class_prompt='a photo of a digit', progress=False)
        parts.append(with_adapter(d/f'cdb_c{k}', lambda: ddm_generate(pipe, 'a photo of sks digit', int(q), seed=seed + 100 * k)[0]))
    ims = np.concatenate(parts)
    rows.append(measure('Clustered DreamBooth', seed, ims, time.time() - t)); grids.setdefault('Clustered DreamBooth', ims[::max(1, len(ims) // 12)][:12])

r = pd.DataFrame(rows)
r.to_csv(out/'ddm_results.csv', index=False)
g = r.groupby('method', sort=False)[['green', 'FD', 'SPD', 'clip_frechet', 'clip_frechet_within', 'seconds']]
t = g.mean().round(3).astype(str) + ' ± ' + g.std().fillna(0).round(3).astype(str)
print(f"\n{len(a.seeds)} seed(s), {a.n} images each; green = share read as green (balanced: 0.5)\n" + t.to_string())
import matplotlib; matplotlib.use('Agg')
fig = image_grid(np.concatenate(list(grids.values())), rows=len(grids), labels=list(grids))
fig.savefig(out/'ddm_grid.png', dpi=100)
print(f"{out/'ddm_results.csv'}, {out/'ddm_grid.png'}")
