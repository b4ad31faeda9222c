"""The generation stage's faults and bad input: retry rounds under a threshold (bounded, then a warning with the
shortfall; resumable), a corrupt PNG already in the output (regenerated, identical), no adapters for the generator."""
import json, warnings
from pathlib import Path

import numpy as np
import torch
import pandas as pd
import pytest
from PIL import Image

from fairsynth_nb.core import FairsynthError
from fairsynth_nb.cli import main
from fairsynth_nb.generate import run_generate, read_manifest


def set_generate(run, **kw):
    cfg = json.loads((run/'config.json').read_text())
    cfg['generate'].update(dict(n_per_group=4, num_inference_steps=4, batch_size=16), **kw)
    (run/'config.json').write_text(json.dumps(cfg))


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('gen')/'r'
    assert main(['bias', '--severity', '0.99', '--out', out]) == 0
    set_generate(out)
    return out


def test_impossible_threshold_is_bounded_and_warned(run):
    set_generate(run, threshold=2.0, max_rounds=1)              # cosine scores never reach 2
    with pytest.warns(UserWarning, match=r'kept 0 of its quota of 4 images after 1 extra round\(s\) \(shortfall 4\)'):
        m = run_generate(run, 'vanilla', progress=False)
    # 4 planned per group, then shortfall 4 / max(pass rate 0, 1/4) = 16 more per group: bounded
    assert m.row.is_unique and len(m) == 4 * 20 and set(m['round']) == {0, 1} and not m.kept.any()
    assert (m.groupby('group').size() == 20).all()


def test_rounds_fill_the_quota_and_resume(run):
    m = pd.read_csv(run/'synthetic'/'vanilla'/'manifest.csv', keep_default_na=False)
    thr = float(np.quantile(m.clip_score.astype(float), 0.6))    # about 40% of images pass
    set_generate(run, threshold=thr, max_rounds=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m0 = run_generate(run, 'vanilla', progress=False)
    k0 = m0.groupby('group').kept.sum()
    set_generate(run, threshold=thr, max_rounds=3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m3 = run_generate(run, 'vanilla', progress=False)
    k3 = m3.groupby('group').kept.sum()
    assert (k3 >= k0).all() and k3.sum() > k0.sum() and (k3 <= 4).all()
    assert (m3['round'].astype(int) > 0).any()
    # rerun from scratch of the stage (force): the same rows, seeds and kept flags, nothing generated again
    files = {f: (run/'synthetic'/'vanilla'/f).stat().st_mtime_ns for f in m3.file}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        again = run_generate(run, 'vanilla', force=True, progress=False)
    assert again.row.tolist() == m3.row.tolist() and again.seed.tolist() == m3.seed.tolist()
    assert again.kept.tolist() == m3.kept.tolist()
    assert all((run/'synthetic'/'vanilla'/f).stat().st_mtime_ns == t for f, t in files.items())


def test_corrupt_png_is_regenerated(run):
    set_generate(run, threshold=None)
    m = run_generate(run, 'vanilla', progress=False)
    f = run/'synthetic'/'vanilla'/m.file.iloc[5]
    before = np.asarray(Image.open(f)).copy()
    f.write_bytes(b'\x89PNG\r\n\x1a\n not a png')
    assert len(read_manifest(run/'synthetic'/'vanilla'/'manifest.csv')) == len(m) - 1
    m2 = run_generate(run, 'vanilla', force=True, progress=False)
    assert len(m2) == len(m) and m2.row.is_unique
    after = np.asarray(Image.open(f))
    # same seed, same per-image noise, but a batch of 1 instead of the original batch: the kernels sum in another order
    # (on a GPU the half-precision kernels are picked by batch size), so the image agrees to a few levels, not always to
    # the bit; another seed's image would differ by tens of levels on average
    d = np.abs(after.astype(int) - before.astype(int))
    if torch.cuda.is_available(): assert d.mean() <= 1.0 and d.max() <= 16, (d.mean(), d.max())
    else: assert d.mean() <= 0.01 and d.max() <= 2, (d.mean(), d.max())


def test_no_adapters_names_the_stage(run):
    with pytest.raises(FairsynthError, match='fairsynth finetune --run .* --generator lora'):
        run_generate(run, 'lora', progress=False)


def test_negative_max_rounds(run):
    set_generate(run, threshold=0.5, max_rounds=-1)
    with pytest.raises(FairsynthError, match='max_rounds=-1'):
        run_generate(run, 'vanilla', progress=False)
