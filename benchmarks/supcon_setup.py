"""SupCon's set-up in stage 1 (issue 21, departure 2), measured where the generator cannot be blamed: the synthetic set is
the train split's own digits recoloured into every group (an *oracle* generator, a check of the training recipe only,
never a method: it has seen the benchmark's digits). Two-stage training on Colored MNIST at one severity, one row per
set-up: this package's first one (one view, no augmentation, SupCon on the pooled features, temperature 0.1) and
SupCon's reference one (two augmented views, a projection MLP to 128, temperature 0.07 or another). The temperature is
chosen by the validation worst-group accuracy; the test figures are printed beside it, not used to choose.

    python benchmarks/supcon_setup.py [--severity 0.99] [--seeds 0] [--temperatures 0.05 0.07 0.1 0.2] [--out /tmp/supcon_setup]
"""
import argparse, json, os, time
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image
from fairsynth_nb.core import TrainConfig
from fairsynth_nb.data import colored_mnist, colour_digit, mnist5k, COLOURS, COLOUR_NAMES
from fairsynth_nb.train import train_method
from fairsynth_nb.evaluate import evaluate_learner


def oracle_manifest(df, out:Path, n_per_group:int|None=None, seed:int=0) -> Path:
    "The train split's digits, each class's recoloured into both colours: a group-balanced set of right images."
    X, _ = mnist5k(); rng = np.random.default_rng(seed)
    tr = df[df.split == 'train']
    n = n_per_group or int(tr.groupby('group').size().max())
    rows = []
    out.mkdir(parents=True, exist_ok=True)
    for y in (0, 1):
        ids = tr[tr.y == y].id.str.slice(7).astype(int).to_numpy()
        for a in (0, 1):
            for j, i in enumerate(rng.choice(ids, n, replace=len(ids) < n)):
                f = out/f'y{y}_a{a}_{j:05d}.png'
                if not f.exists(): Image.fromarray(colour_digit(X[i], COLOURS[COLOUR_NAMES[a]], 32, 1.0, 1 - 0.25 * rng.random())).save(f)
                rows.append(dict(file=f.name, group=2 * y + a, y=y, a=a, kept=True))
    man = out/'manifest.csv'; pd.DataFrame(rows).to_csv(man, index=False)
    return man


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--severity', type=float, default=0.99); p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--temperatures', type=float, nargs='+', default=[0.05, 0.07, 0.1, 0.2])
    p.add_argument('--out', default='/tmp/supcon_setup'); p.add_argument('--json')
    a = p.parse_args()
    df = colored_mnist(a.severity, seed=0)
    man = oracle_manifest(df, Path(a.out)/f'oracle_{a.severity}')
    setups = [('first (1 view, features, T 0.1)', dict(views=1, proj_dim=None, temperature=0.1))]
    setups += [(f'reference (2 views, proj 128, T {t})', dict(views=2, proj_dim=128, temperature=t)) for t in a.temperatures]
    rows = []
    for name, kw in setups:
        for s in a.seeds:
            t0 = time.time()
            learn = train_method('two_stage', df, manifest=man, cfg=TrainConfig(**kw), seed=s, path=Path(a.out)/'models')
            val, test = evaluate_learner(learn, df, 'val'), evaluate_learner(learn, df, 'test')
            r = dict(setup=name, seed=s, val_wga=val['worst_group_acc'], test_wga=test['worst_group_acc'], test_aga=test['mean_group_acc'],
                     seconds=round(time.time() - t0))
            print(json.dumps(r), flush=True); rows.append(r)
    t = pd.DataFrame(rows).groupby('setup', sort=False)[['val_wga', 'test_wga', 'test_aga', 'seconds']].agg(['mean', 'std'])
    print(f"\nseverity {a.severity}, seeds {a.seeds}, two_stage on the oracle set\n{t.round(3).to_string()}")
    if a.json: Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == '__main__': main()
