"""Fidelity of generated sets (issues 5 and 6): the share of each generator's images that a reader trained on real
Colored MNIST reads as the intended group (class y and colour a), before and after the CLIP filter, and the share the
filter rejected. For the ddm generator, whose images carry a class but no attribute, the intended group is not defined:
its row reports the class and the balance only. `minority_colour` is the share of each class's images read in the colour
that is rare for that class in the real train split (colour a = 1 - y on Colored MNIST), averaged over the two classes:
a group-balanced set has 0.5. `strict` (and `worst_strict`, its worst group) reads the colour strictly: the frame must be
the dataset's red or green, not orange or blue (reader.py, 2026-12-02); the columns before it read whichever of red and
green dominates, as every fidelity figure before 2026-12-02 did.

Usage: python benchmarks/fidelity.py --run runs/demo [--generators vanilla lora dreambooth clustered ddm]
"""
import argparse, sys
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from reader import read, frame_colour, real_accuracy

p = argparse.ArgumentParser(); p.add_argument('--run', required=True)
p.add_argument('--generators', nargs='+', default=['vanilla', 'lora', 'dreambooth', 'clustered', 'ddm'])
a = p.parse_args()
rows = []
for g in a.generators:
    man = Path(a.run)/'synthetic'/g/'manifest.csv'
    if not man.exists(): print(f"{g}: no manifest at {man}, skipped"); continue
    m = pd.read_csv(man, keep_default_na=False)
    ims = [np.asarray(Image.open(man.parent/f).convert('RGB')) for f in m.file]
    d, y, att = read(ims)
    strict = frame_colour(ims, strict=True)
    m['ok_y'], m['ok_a'] = y == m.y, att == m.a
    m['ok'] = m.ok_y & m.ok_a
    m['ok_strict'] = m.ok_y & (strict == m.a)
    m['minority'] = att == 1 - m.y
    blind = bool((m.a.astype(int) == -1).all())
    kept = m.kept.astype(str).str.lower() == 'true'
    for name, part in (('all generated', m), ('kept', m[kept])):
        rows.append(dict(generator=g, images=name, n=len(part), intended_group=np.nan if blind else part.ok.mean(),
                         strict=np.nan if blind else part.ok_strict.mean(), worst_strict=np.nan if blind else part.groupby('group').ok_strict.mean().min(),
                         class_y=part.ok_y.mean(),
                         colour_a=np.nan if blind else part.ok_a.mean(), worst_group=np.nan if blind else part.groupby('group').ok.mean().min(),
                         minority_colour=part.groupby('y').minority.mean().mean()))
    rows[-1]['rejected_by_filter'] = 1 - kept.mean()
    if not blind:                       # where the kept set goes wrong: its groups, then its clusters, worst first
        k = m[kept]
        per = k.groupby(['y', 'a']).ok.agg(share='mean', n='size').reset_index()
        print(f"{g}, kept, per group: " + ', '.join(f"y={r.y},a={r.a} {r.share:.1%} of {r.n}" for r in per.itertuples()))
        per = k.groupby(['y', 'a', 'cluster']).ok.agg(share='mean', n='size').reset_index().sort_values('share').head(3)
        print(f"{g}, kept, worst clusters: " + ', '.join(f"y={r.y},a={r.a}/{r.cluster} {r.share:.1%} of {r.n}" for r in per.itertuples()))
t = pd.DataFrame(rows)
print(t.round(3).to_string(index=False))
r = real_accuracy()
print(f"the reader itself on the real test split (its ceiling): digit {r['digit']:.3f}, y {r['y']:.3f}, colour {r['colour']:.3f}, "
      f"strict colour {r['colour_strict']:.3f}")
