"""The severity-sweep plot from results tables: worst-group and average-group accuracy (mean ± sd over seeds) against the
train split's bias severity, one line per method, from one or more `benchmarks/results/*.json` files whose columns are
'method', 'group labels', 'WGA at <s>' ..., 'AGA at <s>' ... and whose cells read 'mean ± sd (n)' (what
`results.py --json` writes; `baselines_sweep.json` has the same layout). A method found in several files is taken from the
last one.

Usage: python benchmarks/sweep_plot.py benchmarks/results/baselines_sweep.json benchmarks/results/sweep_recipe.json
       --png nbs/images/severity_sweep_recipe.png [--methods erm groupdro dfr two_stage-clustered ...]
"""
import argparse, json, re
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt

p = argparse.ArgumentParser()
p.add_argument('tables', nargs='+'); p.add_argument('--png', required=True); p.add_argument('--methods', nargs='*')
a = p.parse_args()
CELL = re.compile(r'^\s*(-?[\d.]+)\s*±\s*([\d.]+)\s*\((\d+)\)\s*$')
data = {}                        # method -> metric -> severity -> (mean, sd)
for t in a.tables:
    r = json.load(open(t))
    for row in r['rows']:
        d = data.setdefault(row[0], {'WGA': {}, 'AGA': {}})
        for col, v in zip(r['columns'], row):
            m = re.match(r'^(WGA|AGA) at ([\d.]+)$', col)
            c = CELL.match(str(v))
            if m and c: d[m[1]][float(m[2])] = (float(c[1]), float(c[2]))
methods = a.methods or list(data)
sevs = sorted({s for m in methods for s in data[m]['WGA']})
fig, axs = plt.subplots(1, 2, figsize=(11, 4))
for k, ax in zip(('WGA', 'AGA'), axs):
    for m in methods:
        pts = [(sevs.index(s), *data[m][k][s]) for s in sevs if s in data[m][k]]
        if not pts: continue
        x, mu, sd = zip(*pts)
        ax.errorbar(x, mu, yerr=sd, marker='o', capsize=3, label=m, ls='--' if m in ('erm', 'groupdro', 'dfr', 'resample', 'reweight') else '-')
    ax.set_xticks(range(len(sevs)), [f'{s:g}' for s in sevs]); ax.set_xlabel('bias severity of the train split')
    ax.set_ylabel(f"{'worst-group' if k == 'WGA' else 'average-group'} accuracy (%)"); ax.set_ylim(-3, 103); ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
fig.tight_layout(); fig.savefig(a.png, dpi=110)
print(a.png, 'methods:', ', '.join(methods), 'severities:', sevs)
