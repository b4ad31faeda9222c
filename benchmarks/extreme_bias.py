"""The extreme-bias recipe (issue 21): how to draw a minority group that has no adapter of its own.

At train severity >= `finetune.extreme_bias` (0.999) the minority groups get no adapter; `generate.extreme_recipe` says
how their images are made:
- `paper`: the bias-aligned group's adapters (same class), the attribute word swapped, the identifier token dropped, a
  negative prompt for the majority attribute (the paper's text, shared/PAPERS.md);
- `token`: the same, keeping the identifier token ("a photo of sks digit on a green background" through the red group's
  adapters);
- `vanilla`: the base model with the group prompt (no adapter);
each with and without the negative prompt (`generate.extreme_negative`).

For each recipe, `--n` images per minority group are planned exactly as the generation stage plans them (clusters share
the quota by size, one seed per row, so the recipes draw from the same seeds), made with the run's generation settings,
and read by the reader trained on real Colored MNIST (`reader.py`): the share read as the intended group (class y and
colour a, the colour read strictly: an orange frame is not red), as class y, as colour a, and the number of distinct digits. The same shares are given for the images the CLIP
filter keeps (the paper's score: class prompt and the group's real train centroid, alpha 0.5, top 75%).

Usage: python benchmarks/extreme_bias.py --run runs/sweep_new/sev0.999 [--recipes paper token vanilla] [--n 96]
       [--json benchmarks/results/extreme_bias.json] [--png nbs/images/extreme_bias.png]
"""
import argparse, dataclasses, json, os, sys, time
from pathlib import Path
import numpy as np, torch
import matplotlib; matplotlib.use('Agg')
sys.path.insert(0, str(Path(__file__).parent))
from reader import read, frame_colour, real_accuracy, PALETTE_TOL
from fairsynth_nb.core import load_config, group_name, save_fig
from fairsynth_nb.data import dataset_from_config, label_prompt
from fairsynth_nb.finetune import load_adapter_index
from fairsynth_nb.models import load_pipeline, load_clip, image_grid
from fairsynth_nb.cluster import clip_image_embeddings, clip_text_embeddings
from fairsynth_nb.generate import make_plan, load_adapters, generate_rows, score_embeddings, filter_group

p = argparse.ArgumentParser()
p.add_argument('--run', required=True, help='a run folder whose clustered (or lora/dreambooth) adapters are finetuned')
p.add_argument('--generator', default='clustered')
p.add_argument('--recipes', nargs='+', default=['paper', 'token', 'vanilla'])
p.add_argument('--n', type=int, default=96, help='images per minority group and recipe')
p.add_argument('--json', default=None); p.add_argument('--png', default=None)
a = p.parse_args()
torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
cfg = load_config(a.run); df = dataset_from_config(cfg); index = load_adapter_index(a.run, a.generator)
tr = df[df.split == 'train']
pipe = load_pipeline(cfg.model, device='cpu'); clip, proc = load_clip(cfg.clip_model)
names, rows, grids, refs = {}, [], [], {}
print(f"{a.run}: severity {cfg.data.severity}, {a.generator} adapters: {len(index['adapters'])}; {a.n} images per minority group "
      f"and recipe; real train images per group: {tr.groupby('group').size().to_dict()}")
for r, neg in [(r, neg) for r in a.recipes for neg in (True, False)]:
    recipe = r + ('' if neg else ' no negative')
    gc = dataclasses.replace(cfg.generate, n_per_group=a.n, keep_frac=1.0, extreme_recipe=r, extreme_negative=neg)
    plan = make_plan(df, a.generator, gc, index, cfg.finetune.instance_token, cfg.model)
    plan = plan[plan.recipe.str.startswith('extreme_bias')]
    if not len(plan): sys.exit(f"{a.run}: no group uses the extreme-bias recipe (every group has adapters)")
    names.update(load_adapters(pipe, plan[~plan.adapter.isin(list(names))], a.run))
    t = time.time(); ims = {}
    for b, x in generate_rows(pipe, plan, names, gc.num_inference_steps, gc.guidance_scale, gc.batch_size):
        ims.update(zip(b.row, x))
    secs = time.time() - t
    for g, part in plan.groupby('group'):
        x = np.stack([ims[r] for r in part.row]); y, att = int(part.y.iloc[0]), int(part.a.iloc[0])
        d, ry, ra = read(list(x), strict=True)
        rl = frame_colour(list(x))
        real = list(tr[tr.group == g].image)
        if g not in refs:      # the filter's references (class prompt, real train centroid): the same for every recipe
            refs[g] = (clip_text_embeddings([label_prompt(df, y)], clip, proc)[0], clip_image_embeddings(real, clip, proc).mean(0))
        s = score_embeddings(clip_image_embeddings(list(x), clip, proc), *refs[g], cfg.generate.alpha)
        keep = filter_group(s, len(x), cfg.generate.keep_frac)
        for name, m in (('generated', np.ones(len(x), bool)), ('kept', keep)):
            rows.append(dict(recipe=recipe, group=group_name(y, att), images=name, n=int(m.sum()), real_train=len(real),
                             intended_group=round(float(np.mean(((ry == y) & (ra == att))[m])), 3),
                             class_y=round(float(np.mean((ry == y)[m])), 3), colour_a=round(float(np.mean((ra == att)[m])), 3),
                             colour_lenient=round(float(np.mean((rl == att)[m])), 3),
                             digits=int(len(set(d[m & (ry == y)])))))
        grids.append((f"{recipe}: {group_name(y, att)}", x[:12]))
    print(f"{recipe}: {len(plan)} images in {secs:.0f} s; " + '; '.join(f"{r['group']} {r['images']} {r['intended_group']:.3f}"
                                                                   for r in rows if r['recipe'] == recipe), flush=True)
print()
hdr = ['recipe', 'group', 'images', 'n', 'real_train', 'intended_group', 'class_y', 'colour_a', 'colour_lenient', 'digits']
print(' | '.join(hdr)); [print(' | '.join(str(r[k]) for k in hdr)) for r in rows]
acc = real_accuracy()
print(f"the reader on the real test split (its ceiling): digit {acc['digit']:.3f}, y {acc['y']:.3f}, colour {acc['colour']:.3f}, "
      f"strict colour {acc['colour_strict']:.3f}")
if a.png:
    fig = image_grid(np.concatenate([g for _, g in grids]), len(grids), labels=[l for l, _ in grids], scale=2.5)
    save_fig(fig, a.png); print(a.png)
if a.json:
    Path(a.json).write_text(json.dumps(dict(
        title='The extreme-bias recipe: minority groups drawn without an adapter of their own',
        script='benchmarks/extreme_bias.py', run=a.run, severity=cfg.data.severity, generator=a.generator,
        adapters=len(index['adapters']), n_per_group=a.n, guidance_scale=cfg.generate.guidance_scale,
        finetune=dict(max_train_steps=cfg.finetune.max_train_steps, with_prior_preservation=cfg.finetune.with_prior_preservation),
        reader_ceiling=acc, date=time.strftime('%Y-%m-%d'), machine='2 CPU cores', columns=hdr,
        settings=(f"The {a.generator} adapters of {a.run} (Colored MNIST-5k at severity {cfg.data.severity}, finetuned on the bias-aligned "
                  f"groups: {cfg.finetune.max_train_steps} steps, prior preservation {'on' if cfg.finetune.with_prior_preservation else 'off'}); "
                  f"{a.n} images per minority group and recipe from the same seeds, the run's generation settings; read by the reader "
                  f"trained on real Colored MNIST (benchmarks/reader.py). intended_group = class y and colour a, the colour read strictly (the frame's "
                  f"chromaticity within {PALETTE_TOL} of the dataset's red or green; colour_lenient: whichever of red and green dominates); digits = distinct digits "
                  f"among the images of the right class; kept = the CLIP filter's top {cfg.generate.keep_frac:.0%} (class prompt, the group's "
                  f"real train centroid, alpha {cfg.generate.alpha})."),
        rows=[[r[k] for k in hdr] for r in rows]), indent=1) + '\n')
    print(a.json)
