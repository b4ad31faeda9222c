"""Clustering quality on Colored MNIST (issue 5): adjusted Rand index of each group's clusters against the digit id.

Usage: python benchmarks/cluster_ari.py [--severity 0.99] [--k 5] [--embedding clip|clip_patches|pixels] [--method kmeans|spectral]
"""
import argparse, warnings
import pandas as pd, torch
from fairsynth_nb.data import colored_mnist
from fairsynth_nb.models import load_clip
from fairsynth_nb.cluster import cluster_groups

p = argparse.ArgumentParser(); p.add_argument('--severity', type=float, default=0.99); p.add_argument('--k', type=int, default=5)
p.add_argument('--clip-model', default=None)
p.add_argument('--embedding', default='clip'); p.add_argument('--method', default='kmeans')
a = p.parse_args()
warnings.simplefilter('ignore')
cm = colored_mnist(a.severity, seed=0)
clip, proc = load_clip(a.clip_model) if a.embedding != 'pixels' else (None, None)
rows = []
for k in (a.k, None):
    _, s = cluster_groups(cm, clip, proc, k=k, embedding=a.embedding, method=a.method)
    for g, v in s.items(): rows.append(dict(k_rule=f'k={k}' if k else 'silhouette', group=g, n=v['n'], k=v['k'], ari=round(v.get('ari', float('nan')), 3)))
t = pd.DataFrame(rows)
print(t.pivot_table(index='group', columns='k_rule', values=['k', 'ari'], aggfunc='first').to_string())
print(f"(ARI against the digit id; {cm.attrs['dataset']} at severity {a.severity}; {a.embedding} embeddings, {a.method}; groups of 5 digits each, so k=5 is the natural number)")
