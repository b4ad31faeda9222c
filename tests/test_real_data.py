"""Every method through the command on real-format folders (Waterbirds, CelebA, UTKFace fixtures that keep the real files'
row order and names), then the evaluation with the paper's metrics; bad tables get clear errors."""
import json, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fairsynth_nb.data import make_waterbirds_fixture, make_celeba_fixture, make_utkface_fixture, load_dataset
from fairsynth_nb.core import FairsynthError
from fairsynth_nb.cli import main
from fairsynth_nb.train import dls_from_table

FIXTURES = {'waterbirds': make_waterbirds_fixture, 'celeba': make_celeba_fixture, 'utkface': make_utkface_fixture}
REAL = ['erm', 'resample', 'reweight', 'groupdro']
SYNTHETIC = ['two_stage', 'synthetic_groupdro', 'ffr']


def tiny_manifest(folder: Path, per_group: int = 6) -> Path:
    "A synthetic set as the generation stage writes it: PNGs and a manifest.csv with a kept flag."
    rng = np.random.default_rng(0); rows = []
    folder.mkdir(parents=True)
    for g in range(4):
        for k in range(per_group):
            f = f'g{g}_{k}.png'
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder/f)
            rows.append(dict(file=f, group=g, y=g // 2, a=g % 2, kept=True))
    pd.DataFrame(rows).to_csv(folder/'manifest.csv', index=False)
    return folder/'manifest.csv'


@pytest.mark.parametrize('name', list(FIXTURES))
def test_every_method_on_real_format(tmp_path, name):
    root = FIXTURES[name](tmp_path/name, n_per_group=6)
    out = tmp_path/'run'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')          # UTKFace's malformed names are skipped with a warning
        assert main(['bias', '--dataset', name, '--root', str(root), '--out', str(out)]) == 0
    cfg = json.loads((out/'config.json').read_text())
    # Group-DRO at real scale takes the Group-DRO paper's settings for this dataset
    lr = {'waterbirds': 1e-3, 'celeba': 1e-4, 'utkface': 1e-4}[name]
    assert (cfg['train']['dro_lr'], cfg['train']['dro_wd'], cfg['train']['dro_eta']) == (lr, 1e-4, 0.01)
    cfg['train'].update(arch='small_cnn', pretrained=False, size=32, bs=8, stage2_epochs=1)   # small enough for a CPU
    (out/'config.json').write_text(json.dumps(cfg))
    args = ['--seeds', '0', '--epochs', '1']
    assert main(['train', '--run', str(out), *sum([['--method', m] for m in REAL], []), *args]) == 0
    man = tiny_manifest(tmp_path/'syn')
    assert main(['train', '--run', str(out), *sum([['--method', m] for m in SYNTHETIC], []), '--manifest', str(man), *args]) == 0
    assert main(['evaluate', '--run', str(out)]) == 0
    m = json.loads((out/'metrics.json').read_text())
    assert set(m) >= set(REAL) and len(m) == len(REAL + SYNTHETIC)
    for v in m.values():
        assert v['mean_group_acc'] == pytest.approx(np.mean(list(v['per_group'].values())))
    head = (out/'results.md').read_text().splitlines()[0]
    assert head.startswith('| method | WGA | AGA | avg (images) |')
    assert ('avg (train-weighted)' in head) == (name == 'waterbirds')     # the Group-DRO paper's average, for Waterbirds


@pytest.mark.parametrize('order', ['as_loaded', 'shuffled', 'val_first'])
def test_balanced_loader_any_row_order(tmp_path, order):
    root = make_waterbirds_fixture(tmp_path/'wb', n_per_group=6)
    df = load_dataset('waterbirds', root, severity=None)
    if order == 'shuffled': df = df.sample(frac=1, random_state=1)
    if order == 'val_first': df = df.sort_values('split', key=lambda s: s.map({'val': 0, 'test': 1, 'train': 2}))
    dls = dls_from_table(df, bs=16, balanced=True, size=16)
    xb, yb, gb = dls.one_batch()
    assert len(gb) == 16 and set(gb.tolist()) <= {0, 1, 2, 3}


def test_table_naming_missing_images(tmp_path):
    root = make_celeba_fixture(tmp_path/'c', n_per_group=3)
    df = load_dataset('celeba', root, severity=None)
    (root/'img_align_celeba'/'000005.jpg').unlink()
    with pytest.raises(FairsynthError, match=r"column image names 1 file\(s\) that do not exist, e.g. .*000005\.jpg"):
        dls_from_table(df, bs=8, size=16)


def test_unknown_split_values_are_named(tmp_path, capsys):
    root = make_waterbirds_fixture(tmp_path/'wb')
    m = pd.read_csv(root/'metadata.csv'); m.loc[3, 'split'] = 3; m.to_csv(root/'metadata.csv', index=False)
    assert main(['bias', '--dataset', 'waterbirds', '--root', str(root), '--out', str(tmp_path/'r')]) == 2
    err = capsys.readouterr().err
    assert 'metadata.csv: column split has value(s) [3]; expected [0, 1, 2]' in err and 'Traceback' not in err
    root = make_celeba_fixture(tmp_path/'c')
    p = root/'list_eval_partition.txt'; p.write_text(p.read_text().replace('000001.jpg 0', '000001.jpg 7'))
    assert main(['bias', '--dataset', 'celeba', '--root', str(root), '--out', str(tmp_path/'r2')]) == 2
    err = capsys.readouterr().err
    assert "list_eval_partition.txt: expected lines '<file> <0|1|2>'" in err and 'found partition 7 for 000001.jpg' in err
    assert not (tmp_path/'r').exists() and not (tmp_path/'r2').exists()
