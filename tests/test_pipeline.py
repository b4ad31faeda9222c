"""`fairsynth run` end to end on a tiny configuration: every output, the metrics.json schema, a rerun is a no-op,
SIGKILL during generation then rerun gives the same metrics.json, and a changed setting re-runs only the stages it affects."""
import json, signal, subprocess, sys, time
from pathlib import Path

import pandas as pd
import pytest

from fairsynth_nb.core import RunConfig, DataConfig, ClusterConfig, FinetuneConfig, GenerateConfig, TrainConfig, save_config
from fairsynth_nb.evaluate import check_metrics

def tiny_config():
    return RunConfig(name='tiny', data=DataConfig(severity=0.99), cluster=ClusterConfig(k=2),
                     finetune=FinetuneConfig(max_train_steps=4, checkpointing_steps=2, train_batch_size=4, num_class_images=4, min_images=5),
                     generate=GenerateConfig(n_per_group=6, num_inference_steps=4, batch_size=1),
                     train=TrainConfig(methods=['erm', 'two_stage'], seeds=[0], epochs=1, stage1_epochs=1, stage2_epochs=1))

def fairsynth(*args, **kw):
    exe = str(Path(sys.executable).parent/'fairsynth')
    return subprocess.Popen([exe, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

def markers(run): return {p.stem: p.stat().st_mtime_ns for p in (run/'.markers').glob('*.json')}

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('pipe')
    save_config(tiny_config(), d/'tiny.json')
    p = fairsynth('run', '--config', d/'tiny.json', '--out', d/'a'); out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out[-3000:]
    return d

def test_every_output(runs):
    run = runs/'a'
    for f in ('config.json', 'bias/summary.json', 'clusters/assignments.csv', 'adapters/clustered/index.json',
              'synthetic/clustered/manifest.csv', 'metrics.json', 'results.md', 'report.html', 'stage_times.json', 'figures/curves.png'):
        assert (run/f).exists(), f
    m = json.loads((run/'metrics.json').read_text())
    check_metrics(m)
    assert set(m) == {'erm', 'two_stage-clustered'}
    man = pd.read_csv(run/'synthetic'/'clustered'/'manifest.csv', keep_default_na=False)
    assert man.row.is_unique and (man.groupby('group').kept.apply(lambda s: (s.astype(str) == 'True').sum()) == 6).all()
    html = (run/'report.html').read_text()
    assert html.count('data:image/png;base64') >= 8 and 'Results' in html

def test_rerun_is_a_noop(runs):
    run = runs/'a'
    before = markers(run)
    p = fairsynth('run', '--config', runs/'tiny.json', '--out', run); out = p.communicate(timeout=300)[0]
    assert p.returncode == 0, out[-2000:]
    after = markers(run)
    assert {k: v for k, v in after.items()} == before, 'a rerun must not redo any stage'

def test_sigkill_during_generation_then_rerun(runs):
    run = runs/'b'
    p = fairsynth('run', '--config', runs/'tiny.json', '--out', run)
    man = run/'synthetic'/'clustered'/'manifest.csv'
    t0 = time.time()
    while time.time() - t0 < 400:
        if man.exists() and len(man.read_text().splitlines()) > 6: break
        if p.poll() is not None: break
        time.sleep(0.05)
    assert p.poll() is None, 'the run ended before it could be killed during generation'
    p.send_signal(signal.SIGKILL); p.wait()
    n_before = len(man.read_text().splitlines()) - 1
    assert 0 < n_before < 32
    p = fairsynth('run', '--config', runs/'tiny.json', '--out', run); out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out[-3000:]
    a = pd.read_csv(runs/'a'/'synthetic'/'clustered'/'manifest.csv', keep_default_na=False)
    b = pd.read_csv(man, keep_default_na=False)
    assert len(b) == len(a) and b.row.is_unique and sorted(b.seed) == sorted(a.seed)
    assert json.loads((run/'metrics.json').read_text()) == json.loads((runs/'a'/'metrics.json').read_text())

def test_changed_setting_reruns_only_its_stages(runs):
    run = runs/'a'
    before = markers(run)
    cfg = tiny_config(); cfg.train.epochs = 2
    save_config(cfg, runs/'tiny2.json')
    p = fairsynth('run', '--config', runs/'tiny2.json', '--out', run); out = p.communicate(timeout=300)[0]
    assert p.returncode == 0, out[-2000:]
    after = markers(run)
    redone = sorted(k for k in after if after[k] != before.get(k))
    # the real-data epochs changed: ERM is retrained; the two-stage model (which does not read them), bias, clusters,
    # adapters and the synthetic set are kept
    assert redone == ['train-erm-s0'], redone
    cfg.train.stage2_lr = 0.02
    save_config(cfg, runs/'tiny3.json')
    p = fairsynth('run', '--config', runs/'tiny3.json', '--out', run); out = p.communicate(timeout=300)[0]
    assert p.returncode == 0, out[-2000:]
    again = markers(run)
    assert sorted(k for k in again if again[k] != after.get(k)) == ['train-two_stage-clustered-s0']

def test_severity_sweep(tmp_path):
    "`fairsynth run --severities`: one run folder per severity, then the sweep's table and plot; a rerun is a no-op."
    cfg = tiny_config(); cfg.train.methods = ['erm']; cfg.train.seeds = [0, 1]
    save_config(cfg, tmp_path/'erm.json')
    p = fairsynth('run', '--config', tmp_path/'erm.json', '--severities', '0.95', '0.99', '--out', tmp_path/'sw')
    out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out[-3000:]
    for s in ('0.95', '0.99'):
        c = json.loads((tmp_path/'sw'/f'sev{s}'/'config.json').read_text())
        assert c['data']['severity'] == float(s) and (tmp_path/'sw'/f'sev{s}'/'metrics.json').exists()
    r = pd.read_csv(tmp_path/'sw'/'sweep.csv')
    assert len(r) == 4 and set(r.method) == {'erm'} and sorted(set(r.seed)) == [0, 1] and r.s_per_epoch.notna().all()
    assert {'worst_group_acc', 'mean_group_acc', 'avg_acc'} <= set(r.columns)      # WGA and AGA in the sweep's CSV
    md = (tmp_path/'sw'/'sweep.md').read_text()
    assert '| erm |' in md and '(2)' in md and '**WGA**' in md and '**AGA**' in md and 'seconds per epoch' in md
    assert (tmp_path/'sw'/'severity_sweep.png').exists() and 'sweep.md' in out
    before = {p: p.stat().st_mtime_ns for p in (tmp_path/'sw').glob('sev*/.markers/*.json')}
    p = fairsynth('run', '--config', tmp_path/'erm.json', '--severities', '0.95', '0.99', '--out', tmp_path/'sw')
    assert p.communicate(timeout=300)[0] is not None and p.returncode == 0
    assert {p: p.stat().st_mtime_ns for p in (tmp_path/'sw').glob('sev*/.markers/*.json')} == before
    # a call for one severity (say, to complete a sweep) still tables every severity of the folder
    p = fairsynth('run', '--config', tmp_path/'erm.json', '--severities', '0.99', '--out', tmp_path/'sw')
    assert p.communicate(timeout=300)[0] is not None and p.returncode == 0
    assert sorted(set(pd.read_csv(tmp_path/'sw'/'sweep.csv').severity)) == [0.95, 0.99]
