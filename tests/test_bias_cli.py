"The `fairsynth bias` command end to end, on the embedded default and on real-format fixtures, and every bad input."
import json, os, shutil, subprocess, sys, warnings
from pathlib import Path

import pandas as pd
import pytest

from fairsynth_nb.core import FairsynthError, RunConfig, DataConfig
from fairsynth_nb.data import make_waterbirds_fixture, make_celeba_fixture, make_utkface_fixture, colored_mnist
from fairsynth_nb.cli import main


def run_cli(*args):
    "Run the installed `fairsynth` console script."
    exe = shutil.which('fairsynth') or str(Path(sys.executable).parent/'fairsynth')
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300)


def summary(out):
    return json.loads((Path(out)/'bias'/'summary.json').read_text())


def test_colored_mnist_end_to_end(tmp_path):
    r = run_cli('bias', '--dataset', 'colored_mnist', '--severity', '0.99', '--out', tmp_path/'demo')
    assert r.returncode == 0, r.stderr
    s = summary(tmp_path/'demo')
    assert s['dataset'] == 'colored_mnist' and s['severity'] == 0.99
    for c in ('0', '1'): assert abs(s['class_severity'][c] - 0.99) <= 0.005
    g = pd.DataFrame(s['groups'])
    assert set(g.columns) >= {'split', 'y', 'a', 'n'} and len(g) == 12
    for split in ('val', 'test'):
        assert g[g.split == split].n.nunique() == 1 and g[g.split == split].n.iloc[0] > 0   # group-balanced
    assert g.n.sum() == 5000
    pngs = sorted(p.name for p in (tmp_path/'demo'/'bias').glob('*.png'))
    assert pngs == ['group_sizes.png', 'group_y0_a0.png', 'group_y0_a1.png', 'group_y1_a0.png', 'group_y1_a1.png']
    assert json.loads((tmp_path/'demo'/'config.json').read_text())['data']['severity'] == 0.99


def test_colored_mnist_val_test_disjoint_from_train():
    df = colored_mnist(0.95, seed=3)
    assert df.id.is_unique
    # the same MNIST image never lands in two splits: ids are the image index
    assert df.groupby('id').split.nunique().max() == 1


@pytest.mark.parametrize('name,make,n,skipped', [('waterbirds', make_waterbirds_fixture, 24, 0),
                                                 ('celeba', make_celeba_fixture, 24, 0),
                                                 ('utkface', make_utkface_fixture, 20, 3)])   # UTKFace's 3 malformed names
def test_real_formats(tmp_path, name, make, n, skipped):
    root = make(tmp_path/name)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert main(['bias', '--dataset', name, '--root', root, '--out', tmp_path/'run']) == 0
    s = summary(tmp_path/'run')
    assert s['dataset'] == name and s['n_images'] == n and s['n_skipped'] == skipped


def test_real_format_with_severity(tmp_path):
    root = make_celeba_fixture(tmp_path/'celeba', n_per_group=20)
    assert main(['bias', '--dataset', 'celeba', '--root', root, '--severity', '0.8', '--out', tmp_path/'run']) == 0
    s = summary(tmp_path/'run')
    for c in ('0', '1'): assert abs(s['class_severity'][c] - 0.8) < 0.01


# ---- bad input: a clear message naming the field or path, status 2, nothing half-written ----

def bad(capsys, args, *expected):
    rc = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert 'Traceback' not in err
    for e in expected: assert e in err, err
    return err


def test_unknown_dataset(tmp_path, capsys):
    bad(capsys, ['bias', '--dataset', 'imagenet', '--out', tmp_path/'r'], "unknown dataset 'imagenet'", 'colored_mnist')
    assert not (tmp_path/'r').exists()


def test_missing_root(tmp_path, capsys):
    bad(capsys, ['bias', '--dataset', 'waterbirds', '--root', tmp_path/'nowhere', '--out', tmp_path/'r'], str(tmp_path/'nowhere'), 'does not exist')
    bad(capsys, ['bias', '--dataset', 'celeba', '--out', tmp_path/'r'], 'needs --root')
    assert not (tmp_path/'r').exists()


def test_metadata_missing_column(tmp_path, capsys):
    root = make_waterbirds_fixture(tmp_path/'wb')
    pd.read_csv(root/'metadata.csv').drop(columns=['split']).to_csv(root/'metadata.csv', index=False)
    bad(capsys, ['bias', '--dataset', 'waterbirds', '--root', root, '--out', tmp_path/'r'], 'metadata.csv', 'missing required column(s) split')
    assert not (tmp_path/'r').exists()


def test_celeba_unknown_attribute(tmp_path, capsys):
    root = make_celeba_fixture(tmp_path/'c')
    bad(capsys, ['bias', '--dataset', 'celeba', '--root', root, '--target', 'Blonde', '--out', tmp_path/'r'],
        'list_attr_celeba.txt', "target attribute 'Blonde'")


def test_missing_and_corrupt_images_are_skipped_and_counted(tmp_path):
    root = make_celeba_fixture(tmp_path/'c', n_per_group=3)
    (root/'img_align_celeba'/'000001.jpg').unlink()
    (root/'img_align_celeba'/'000002.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert main(['bias', '--dataset', 'celeba', '--root', str(root), '--out', str(tmp_path/'r')]) == 0
    assert any('skipped 2 image(s)' in str(x.message) for x in w)
    s = summary(tmp_path/'r')
    assert s['n_skipped'] == 2 and s['n_images'] == 36 - 2
    assert sorted(Path(k['image']).name for k in s['skipped']) == ['000001.jpg', '000002.jpg']


def test_group_emptied_by_bad_images_fails(tmp_path, capsys):
    root = make_celeba_fixture(tmp_path/'c', n_per_group=2)
    for f in ('000001.jpg', '000002.jpg'): (root/'img_align_celeba'/f).unlink()    # the whole train y=0,a=0 group
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        bad(capsys, ['bias', '--dataset', 'celeba', '--root', root, '--out', tmp_path/'r'], "no image in group y=0,a=0", '2 images were skipped')
    assert not (tmp_path/'r').exists()


@pytest.mark.parametrize('sev', ['0.5', '1', '1.5', '0.2', '-1'])
def test_severity_out_of_range(tmp_path, capsys, sev):
    bad(capsys, ['bias', '--severity', sev, '--out', tmp_path/'r'], f'severity={float(sev)}', '(0.5, 1)')
    assert not (tmp_path/'r').exists()


def test_zero_image_group_at_severity(tmp_path, capsys):
    bad(capsys, ['bias', '--severity', '0.9999', '--out', tmp_path/'r'], 'zero images', 'y=0,a=1')
    root = make_celeba_fixture(tmp_path/'c', n_per_group=5)
    bad(capsys, ['bias', '--dataset', 'celeba', '--root', root, '--severity', '0.99', '--out', tmp_path/'r2'], 'zero images')
    assert not (tmp_path/'r').exists() and not (tmp_path/'r2').exists()


def test_output_folder_with_different_config(tmp_path, capsys):
    out = tmp_path/'r'
    assert main(['bias', '--severity', '0.95', '--out', str(out)]) == 0
    before = (out/'bias'/'summary.json').read_bytes()
    bad(capsys, ['bias', '--severity', '0.99', '--out', out], str(out), 'data.severity: 0.95 in the folder, 0.99 asked', '--overwrite')
    assert (out/'bias'/'summary.json').read_bytes() == before                  # untouched
    assert json.loads((out/'config.json').read_text())['data']['severity'] == 0.95
    assert main(['bias', '--severity', '0.99', '--out', str(out), '--overwrite']) == 0
    assert summary(out)['severity'] == 0.99


def test_out_is_a_file(tmp_path, capsys):
    f = tmp_path/'afile'; f.write_text('x')
    bad(capsys, ['bias', '--out', f], str(f), 'is a file')


def test_rerun_is_skipped(tmp_path):
    out = tmp_path/'r'
    assert main(['bias', '--severity', '0.95', '--out', str(out)]) == 0
    m = (out/'bias'/'summary.json').stat().st_mtime_ns
    assert main(['bias', '--severity', '0.95', '--out', str(out)]) == 0
    assert (out/'bias'/'summary.json').stat().st_mtime_ns == m
