"""How fast the classifier trains, and where the time goes: the two data paths of `dls_from_table` side by side in one
run, on Colored MNIST-5k (the embedded default).

- memory: the images decoded once into a uint8 tensor on the training device (`TensorDL`), float conversion and
  augmentation on whole batches;
- disk:   the DataBlock API, one PIL image per item (the path before 2026-12-02, and the one for sets over IN_MEMORY_GIB).

For each path and method: the seconds to build the loaders, one epoch of the train loader alone (data only), the
training (fastai `fit_one_cycle`, best epoch kept) in images/s, and the validation / test worst-group accuracy, so that
a faster loader is not a worse model. "data share" = the data-only epoch over the training epoch: where the time goes.

Usage: python benchmarks/train_speed.py [--threads 2] [--epochs 12] [--seeds 0 1 2] [--methods erm groupdro]
       [--loaders memory disk] [--json benchmarks/results/train_speed_cpu.json]
"""
import argparse, json, time
import pandas as pd, torch
from fairsynth_nb.data import colored_mnist
from fairsynth_nb.train import train_method, dls_from_table, TrainConfig
from fairsynth_nb.evaluate import evaluate_learner

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=None)
p.add_argument('--epochs', type=int, default=12)
p.add_argument('--seeds', type=int, nargs='+', default=[0])
p.add_argument('--methods', nargs='+', default=['erm', 'groupdro'])
p.add_argument('--loaders', nargs='+', default=['memory', 'disk'])
p.add_argument('--severity', type=float, default=0.99)
p.add_argument('--json', default=None)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
df = colored_mnist(a.severity, seed=0)
n_train = int((df.split == 'train').sum())
cfg = TrainConfig(epochs=a.epochs)
rows = []
for s in a.seeds:
    for m in a.methods:
        for ld in a.loaders:       # interleaved: a drift of the machine hits both paths alike
            c = TrainConfig(epochs=a.epochs, in_memory_gib=4.0 if ld == 'memory' else 0.0)
            t = time.perf_counter(); dls = dls_from_table(df, bs=c.bs, balanced=m in ('resample', 'groupdro'), in_memory_gib=c.in_memory_gib, seed=s)
            build = time.perf_counter() - t
            t = time.perf_counter(); n = sum(len(b[0]) for b in dls.train); data = time.perf_counter() - t
            t = time.perf_counter(); learn = train_method(m, df, cfg=c, seed=s); fit = time.perf_counter() - t
            r = evaluate_learner(learn, df)
            epoch = fit / a.epochs
            rows.append(dict(method=m, loader=ld, seed=s, build_s=round(build, 2), data_epoch_s=round(data, 2),
                             train_epoch_s=round(epoch, 2), images_per_s=round(n_train / epoch), data_share=round(data / epoch, 2),
                             val_wga=round(max(h['worst_group_acc'] for h in learn.history), 3), test_wga=round(r['worst_group_acc'], 3),
                             test_avg=round(r['avg_acc'], 3)))
            print(json.dumps(rows[-1]), flush=True)
rows_raw = rows
t = pd.DataFrame(rows)
tab = t.groupby(['method', 'loader'], sort=False)[['build_s', 'data_epoch_s', 'train_epoch_s', 'images_per_s', 'data_share', 'val_wga', 'test_wga']].mean()
print(f"\nColored MNIST-5k at {a.severity} ({n_train} train images, 32 px), small CNN, batch {cfg.bs}, {a.epochs} epochs, "
      f"{dev}, {torch.get_num_threads()} thread(s), seeds {a.seeds}; mean over seeds")
print(tab.round(3).to_string())
for m in a.methods:
    if {'memory', 'disk'} <= set(a.loaders):
        x = tab.loc[m]; print(f"{m}: memory is {x.loc['disk', 'train_epoch_s'] / x.loc['memory', 'train_epoch_s']:.2f}x the disk path per epoch")
per_img = 1 / tab.xs('memory', level='loader').images_per_s.mean()
print(f"at this rate (32 px, small CNN), an epoch of CelebA's 162,770 training images would take {162770 * per_img / 60:.1f} min "
      "(an extrapolation: CelebA trains at 224 px)")
if a.json:
    cols = ['method', 'loader', 'build (s)', 'train loader alone, one epoch (s)', 'training epoch (s)', 'images/s', 'data share',
            'val WGA', 'test WGA']
    rows = [[m, ld, f"{x.build_s:.2f}", f"{x.data_epoch_s:.2f}", f"{x.train_epoch_s:.2f}", f"{x.images_per_s:,.0f}", f"{x.data_share:.0%}",
             f"{100 * x.val_wga:.1f}", f"{100 * x.test_wga:.1f}"] for (m, ld), x in tab.iterrows()]
    json.dump(dict(title='Classifier training: images held in memory against one PIL image per item',
                   script='benchmarks/train_speed.py ' + ' '.join(f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                                                 for k, v in vars(a).items() if v not in (None, False) and k != 'json'),
                   machine=f"{dev.upper()}, {torch.get_num_threads()} thread(s)", date=time.strftime('%Y-%m-%d'),
                   settings=f"Colored MNIST-5k at severity {a.severity} ({n_train} train images, 32 px), small CNN, batch {cfg.bs}, "
                            f"{a.epochs} epochs (fit_one_cycle, best epoch by validation worst-group accuracy), seeds {a.seeds}, mean over "
                            "seeds; the two loaders interleaved in one run. 'data share': one epoch of the train loader alone over a "
                            "training epoch (which also validates): where the time went.",
                   columns=cols, rows=rows,
                   notes=[f"{m}: in memory {tab.loc[(m, 'disk'), 'train_epoch_s'] / tab.loc[(m, 'memory'), 'train_epoch_s']:.2f}x as fast per epoch"
                          for m in a.methods if {'memory', 'disk'} <= set(a.loaders)] +
                         [f"At the in-memory rate, an epoch of CelebA's 162,770 training images would take {162770 * per_img / 60:.1f} min of this "
                          "small CNN at 32 px: an extrapolation, not a measurement (CelebA trains a ResNet-50 at 224 px, on a GPU)."],
                   raw=rows_raw), open(a.json, 'w'), indent=1, ensure_ascii=False)
