"""The results table: every method (and every generator for two_stage) across bias severities, several seeds.

A thin wrapper over `fairsynth_nb.pipeline.run_sweep` (what `fairsynth run --preset paper` does on Colored MNIST), at a
scale that fits 2 CPU cores: finetuning 400 steps per adapter without prior preservation (the defaults since
2026-12-02, benchmarks/adapter_recipe.py), as many kept synthetic images per group as the largest real train group (the
paper's way; before 2026-12-02 the sweep kept 200 per group, which left stage 1 about 84 optimiser steps: it stayed near
chance on real validation images), k by silhouette in [2, 6] clusters (ClusterConfig's defaults); the ddm generator (one model per class with
DDM's indicator on clustering pseudo-labels, see nbs/10_ddm) trains the same number of steps. Each severity is one run folder `<out>/sev<S>`; an
interrupted sweep resumes (finished stages are skipped).

Usage: python benchmarks/results.py [--severities 0.9 0.95 0.99 0.999] [--seeds 0 1 2]
       [--generators vanilla lora dreambooth clustered ddm] [--steps 400] [--n-per-group 0] [--out runs/sweep] [--until STAGE] [--report-only] [--json FILE]
       [--ddm-labels pseudo|attribute] [--full-unet --learning-rate 3e-4]
       [--set SECTION.FIELD=VALUE ...]
Prints the worst-group and average accuracy tables (mean ± std over seeds) and the seconds per epoch of each method;
writes <out>/sweep.csv, <out>/sweep.md and <out>/severity_sweep.png.
"""
import argparse, json, sys, time
import torch
from fairsynth_nb.core import FairsynthError, ClusterConfig, FinetuneConfig, GenerateConfig, TrainConfig, RunConfig, DataConfig, DDMConfig
from fairsynth_nb.pipeline import run_sweep, sweep_table, SEVERITIES

p = argparse.ArgumentParser()
p.add_argument('--severities', type=float, nargs='+', default=list(SEVERITIES))
p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
p.add_argument('--methods', nargs='+', default=['erm', 'resample', 'reweight', 'groupdro', 'two_stage'])
p.add_argument('--generators', nargs='+', default=['vanilla', 'lora', 'dreambooth', 'clustered', 'ddm'])
p.add_argument('--steps', type=int, default=400, help='finetuning steps per adapter')
p.add_argument('--n-per-group', type=int, default=0, help="kept synthetic images per group; 0: the largest real train group (the paper's way, GenerateConfig's default)")
p.add_argument('--out', default='runs/sweep')
p.add_argument('--threads', type=int, default=None)
p.add_argument('--full-unet', action='store_true', help='DreamBooth on the whole UNet instead of LoRA (with --learning-rate)')
p.add_argument('--learning-rate', type=float, default=None, help='finetuning learning rate (default: FinetuneConfig\'s)')
p.add_argument('--ddm-labels', default='pseudo', choices=['pseudo', 'attribute'], help="the ddm generator's indicator labels")
p.add_argument('--until', default=None, help='stop after this stage (cluster, finetune, generate, train): a sweep can be run stage by stage')
p.add_argument('--json', default=None, help='also write the WGA and AGA tables as a results file (for benchmarks/results/)')
p.add_argument('--report-only', action='store_true', help='only gather what the run folders already hold')
p.add_argument('--set', nargs='+', default=[], metavar='SECTION.FIELD=VALUE',
               help='any other config setting, the value read as JSON where it parses (finetune.extreme_bias=0.99 train.beta=1)')
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
cfg = RunConfig(name='sweep', data=DataConfig(), cluster=ClusterConfig(),
                finetune=FinetuneConfig(max_train_steps=a.steps, num_class_images=32, min_images=5, full_unet=a.full_unet,
                                        **({'learning_rate': a.learning_rate} if a.learning_rate else {})),
                generate=GenerateConfig(n_per_group=a.n_per_group or None),
                train=TrainConfig(methods=a.methods, seeds=a.seeds), ddm=DDMConfig(labels=a.ddm_labels))
if a.set:
    d = cfg.to_dict()
    for kv in a.set:
        key, eq, v = kv.partition('=')
        sec, dot, fld = key.partition('.')
        if not (eq and dot) or not isinstance(d.get(sec), dict) or fld not in d[sec]:
            raise SystemExit(f"--set {kv}: expected SECTION.FIELD=VALUE with a field of the config (e.g. train.beta=1)")
        try: d[sec][fld] = json.loads(v)
        except json.JSONDecodeError: d[sec][fld] = v
    try: cfg = RunConfig.from_dict(d, where='--set')
    except FairsynthError as e: raise SystemExit(str(e))
r = run_sweep(a.out, cfg, a.severities, a.generators, run=not a.report_only, until=a.until)
if r is None: raise SystemExit(f'stopped after the {a.until} stage: {a.out}')
print(open(f'{a.out}/sweep.md').read())
print(f"{a.out}/sweep.csv, {a.out}/sweep.md, {a.out}/severity_sweep.png")
if a.json:
    w, g = sweep_table(r, 'worst_group_acc'), sweep_table(r, 'mean_group_acc')
    sev = [c for c in w.columns if c != 'group labels']
    rows = [[m, w.loc[m, 'group labels'], *[w.loc[m, s] for s in sev], *[g.loc[m, s] for s in sev]] for m in w.index]
    with open(a.json, 'w') as f:
        json.dump(dict(title='Severity sweep on Colored MNIST', script='benchmarks/results.py ' + ' '.join(sys.argv[1:]), date=time.strftime('%Y-%m-%d'),
                       machine=f'CPU, {torch.get_num_threads()} thread(s)',
                       settings=(''.join(f'{kv}; ' for kv in a.set) + f"Colored MNIST-5k, small CNN; finetuning {a.steps} steps per adapter, {a.n_per_group or 'as many as the largest real train group'} "
                                 f"kept synthetic images per group, clusters by silhouette in [{cfg.cluster.k_min}, {cfg.cluster.k_max}]; test %, mean ± sd over seeds (n)."),
                       columns=['method', 'group labels', *[f'WGA at {s:g}' for s in sev], *[f'AGA at {s:g}' for s in sev]],
                       rows=[[str(v) for v in row] for row in rows]), f, indent=1, ensure_ascii=False)
    print(a.json)
