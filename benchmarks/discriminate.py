"""Does Colored MNIST discriminate? ERM and Group-DRO worst-group test accuracy across colourings and severities.

Usage: python benchmarks/discriminate.py [--areas 1.0 0.3] [--jitters 0.25] [--severities 0.9 0.95 0.99 0.999]
       [--methods erm groupdro] [--epochs 12] [--seeds 0]
Prints one line per run and a table; the chosen default colouring is documented in nbs/01_data.ipynb.
"""
import argparse, time, json
import numpy as np, pandas as pd, torch
from fairsynth_nb.data import colored_mnist
from fairsynth_nb.train import train_method, TrainConfig
from fairsynth_nb.evaluate import evaluate_learner

p = argparse.ArgumentParser()
p.add_argument('--areas', type=float, nargs='+', default=[1.0, 0.3])
p.add_argument('--jitters', type=float, nargs='+', default=[0.25])
p.add_argument('--severities', type=float, nargs='+', default=[0.9, 0.95, 0.99, 0.999])
p.add_argument('--methods', nargs='+', default=['erm', 'groupdro'])
p.add_argument('--epochs', type=int, default=12)
p.add_argument('--seeds', type=int, nargs='+', default=[0])
p.add_argument('--threads', type=int, default=None)
p.add_argument('--json', default=None)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
rows = []
for area in a.areas:
    for jit in a.jitters:
        for sev in a.severities:
            df = colored_mnist(sev, seed=0, colour_area=area, jitter=jit)
            for m in a.methods:
                for s in a.seeds:
                    t = time.time()
                    learn = train_method(m, df, cfg=TrainConfig(epochs=a.epochs), seed=s)
                    r = evaluate_learner(learn, df)
                    rows.append(dict(area=area, jitter=jit, severity=sev, method=m, seed=s, avg=r['avg_acc'], wga=r['worst_group_acc'],
                                     secs=time.time() - t))
                    print(json.dumps(rows[-1]), flush=True)
t = pd.DataFrame(rows)
print(t.groupby(['area', 'jitter', 'method', 'severity'])[['avg', 'wga']].mean().unstack('severity').round(3).to_string())
if a.json: t.to_json(a.json, orient='records', indent=1)
