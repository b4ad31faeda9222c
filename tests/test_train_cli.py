"`fairsynth train` and `fairsynth evaluate` on a run folder, the metrics.json schema, a cross-check with fairlearn, and bad input."
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairsynth_nb.cli import main
from fairsynth_nb.evaluate import check_metrics


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('runs')/'r'
    assert main(['bias', '--severity', '0.95', '--out', out]) == 0
    assert main(['train', '--run', out, '--method', 'erm', '--method', 'groupdro', '--seeds', '0', '1', '--epochs', '1']) == 0
    assert main(['evaluate', '--run', out]) == 0
    return out


def test_outputs_and_schema(run):
    m = json.loads((run/'metrics.json').read_text())
    check_metrics(m)
    assert set(m) == {'erm', 'groupdro'}
    for v in m.values():
        assert v['seeds'] == [0, 1] and len(v['per_seed']) == 2
        assert set(v['per_group']) == {'y=0,a=0', 'y=0,a=1', 'y=1,a=0', 'y=1,a=1'}
        assert v['worst_group_acc'] == pytest.approx(np.mean([s['worst_group_acc'] for s in v['per_seed']]))
        assert v['worst_group_acc'] <= v['avg_acc'] + 1e-9 or v['worst_group_acc'] <= max(v['per_group'].values())
    assert (run/'results.md').read_text().startswith('| method |')
    for f in ('curves.png', 'confusion_erm.png', 'confusion_groupdro.png'): assert (run/'figures'/f).stat().st_size > 1000
    for d in ('erm/s0', 'erm/s1', 'groupdro/s0'):
        for f in ('model.safetensors', 'history.json', 'preds_val.csv', 'preds_test.csv'): assert (run/'models'/d/f).exists()


def test_per_group_matches_fairlearn(run):
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score
    m = json.loads((run/'metrics.json').read_text())
    p = pd.read_csv(run/'models'/'erm'/'s0'/'preds_test.csv')
    mf = MetricFrame(metrics=accuracy_score, y_true=p.y, y_pred=p.pred, sensitive_features=p.group.map(lambda g: f'y={g // 2},a={g % 2}'))
    seed0 = m['erm']['per_seed'][0]
    for k, v in mf.by_group.items(): assert seed0['per_group'][k] == pytest.approx(v)
    assert seed0['worst_group_acc'] == pytest.approx(mf.group_min())
    assert seed0['avg_acc'] == pytest.approx(mf.overall)


def test_rerun_is_skipped(run):
    f = run/'models'/'erm'/'s0'/'model.safetensors'
    t = f.stat().st_mtime_ns
    assert main(['train', '--run', run, '--method', 'erm', '--seeds', '0', '--epochs', '1']) == 0
    assert f.stat().st_mtime_ns == t


def test_bad_input(run, tmp_path, capsys):
    assert main(['train', '--run', run, '--method', 'magic']) == 2
    assert "unknown method(s) magic" in capsys.readouterr().err
    assert main(['train', '--run', run, '--method', 'two_stage']) == 2
    assert '--generator' in capsys.readouterr().err
    assert main(['train', '--run', run, '--method', 'two_stage', '--generator', 'clustered']) == 2
    assert 'fairsynth generate' in capsys.readouterr().err
    assert main(['train', '--run', tmp_path/'nowhere']) == 2
    assert 'not a run folder' in capsys.readouterr().err
    (tmp_path/'empty').mkdir()
    assert main(['bias', '--severity', '0.95', '--out', tmp_path/'empty']) == 0
    assert main(['evaluate', '--run', tmp_path/'empty']) == 2
    assert 'no trained model' in capsys.readouterr().err


def test_manifest_missing_group_and_no_kept(run, tmp_path, capsys):
    rows = [dict(file=f'{i}.png', group=g, y=g // 2, a=g % 2, kept=True) for i, g in enumerate([0, 0, 2, 3])]
    pd.DataFrame(rows).to_csv(tmp_path/'m.csv', index=False)
    assert main(['train', '--run', run, '--method', 'two_stage', '--manifest', tmp_path/'m.csv', '--seeds', '0', '--epochs', '1']) == 2
    assert 'no kept synthetic image for the real group(s) y=0,a=1' in capsys.readouterr().err
    pd.DataFrame(rows).assign(kept=False).to_csv(tmp_path/'m0.csv', index=False)
    assert main(['train', '--run', run, '--method', 'two_stage', '--manifest', tmp_path/'m0.csv', '--seeds', '0']) == 2
    assert 'no kept image' in capsys.readouterr().err
