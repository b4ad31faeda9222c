"""How many sampler steps generation needs (issue 22): the generation stage of a finished run (the demo's adapters),
rerun at several `generate.num_inference_steps` on a copy of the run, timed, and read by the reader trained on real
Colored MNIST (`reader.py`): the share of the kept images read as their intended group (class y and strict colour a),
overall and in the worst group. mini-SD samples with DPM-Solver++ (2M, diffusers' DPMSolverMultistepScheduler), which
the diffusers docs recommend at 20-25 steps; fewer steps would cut the stage in proportion.

Usage: python benchmarks/sampler_steps.py --run runs/demo --steps 10 15 25 [--seeds 0 1 2] [--out /tmp/sampler_steps] [--json F]
       (FAIRSYNTH_THREADS sets torch's threads, 1 by default)
"""
import argparse, json, os, shutil, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from reader import read, frame_colour
from fairsynth_nb.generate import run_generate
from fairsynth_nb.train import run_train
from fairsynth_nb.evaluate import metrics_from_preds

p = argparse.ArgumentParser()
p.add_argument('--run', default='runs/demo'); p.add_argument('--generator', default='clustered')
p.add_argument('--steps', type=int, nargs='+', default=[10, 15, 25])
p.add_argument('--out', default='/tmp/sampler_steps'); p.add_argument('--json')
p.add_argument('--seeds', type=int, nargs='*', default=[], help='also train two_stage on each set with these seeds and read its test WGA / AGA')
a = p.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 1)))
src = Path(a.run)
if not (src/'adapters'/a.generator).exists(): sys.exit(f"{src}: no adapters/{a.generator}: run the finetuning stage first")
rows = []
for steps in a.steps:
    run = Path(a.out)/f'steps{steps}'
    if not run.exists():
        shutil.copytree(src, run, ignore=shutil.ignore_patterns('synthetic', 'models', 'figures', 'report.html', 'metrics.json', 'train-*'))
    cfg = json.loads((run/'config.json').read_text()); cfg['generate']['num_inference_steps'] = steps
    (run/'config.json').write_text(json.dumps(cfg, indent=2))
    run_generate(run, a.generator, progress=False)      # skipped when this copy already holds the set
    secs = json.loads((run/'.markers'/f'generate-{a.generator}.json').read_text())['seconds']   # the stage's own time
    m = pd.read_csv(run/'synthetic'/a.generator/'manifest.csv', keep_default_na=False)
    m = m[m.kept.astype(str).str.lower() == 'true']
    ims = [np.asarray(Image.open(run/'synthetic'/a.generator/f).convert('RGB')) for f in m.file]
    _, y, _ = read(ims); col = frame_colour(ims, strict=True)
    m['ok'] = (y == m.y.to_numpy()) & (col == m.a.to_numpy())
    per = m.groupby('group').ok.mean()
    rows.append(dict(steps=steps, seconds=secs, kept=len(m), read_right=round(m.ok.mean(), 3),
                     worst_group=round(per.min(), 3), per_group=' / '.join(f'{v:.3f}' for v in per)))
    if a.seeds:                  # the classifier pretrained on each set (cached in the copy once trained)
        run_train(run, methods=['two_stage'], seeds=a.seeds, generator=a.generator)
        ms = [metrics_from_preds(pd.read_csv(run/'models'/f'two_stage-{a.generator}'/f's{s}'/'preds_test.csv')) for s in a.seeds]
        for key, col in (('worst_group_acc', 'two-stage test WGA'), ('mean_group_acc', 'two-stage test AGA')):
            v = 100 * np.array([m[key] for m in ms])
            rows[-1][col] = f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f} ({len(v)})"
    print(rows[-1], flush=True)
df = pd.DataFrame(rows); print(df.to_string(index=False))
if a.json:
    Path(a.json).write_text(json.dumps(dict(
        title='Sampler steps against fidelity: the demo generation stage at several num_inference_steps',
        script='benchmarks/sampler_steps.py ' + ' '.join(sys.argv[1:]), machine=f'CPU, {torch.get_num_threads()} torch thread(s)',
        date=time.strftime('%Y-%m-%d'),
        settings=(f"The generation stage of {src} ({a.generator}: its adapters, its plan of 1,600 images and the CLIP filter's top "
                  "75%), rerun on a copy of the run for each step count with the same seeds; seconds: the stage's own time "
                  "(stage marker), PNGs and the CLIP scores included; read right: class y and strict colour a by the reader "
                  "trained on real Colored MNIST, over the kept images; per group in the order y=0,a=0 / y=0,a=1 / y=1,a=0 / y=1,a=1."),
        columns=list(df.columns), rows=df.astype(str).values.tolist()), indent=1, ensure_ascii=False) + '\n')
