"Finetuning and clustering: SIGKILL mid-training then resume, corrupt checkpoints, bad input, the commands on a run folder."
import json, os, signal, subprocess, sys, textwrap, time, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairsynth_nb.core import FairsynthError, FinetuneConfig
from fairsynth_nb.cli import main

SCRIPT = textwrap.dedent('''
    import sys, torch
    torch.set_num_threads(1)
    from fairsynth_nb.core import FinetuneConfig
    from fairsynth_nb.data import colored_mnist
    from fairsynth_nb.models import load_pipeline
    from fairsynth_nb.finetune import train_adapter
    cm = colored_mnist(0.99, seed=0)
    imgs = list(cm[(cm.split == 'train') & (cm.group == 3)].image[:32])
    cfg = FinetuneConfig(max_train_steps=int(sys.argv[2]), checkpointing_steps=5, train_batch_size=4, with_prior_preservation=False)
    def on_step(s): print('step', s, flush=True)
    r = train_adapter(load_pipeline(device='cpu'), imgs, 'a photo of sks digit on a green background', sys.argv[1], cfg, progress=False, on_step=on_step)
    print('done', r['steps'], r['resumed_from'], flush=True)
''')


def test_sigkill_then_resume(tmp_path):
    out = tmp_path/'adapter'
    p = subprocess.Popen([sys.executable, '-c', SCRIPT, str(out), '30'], stdout=subprocess.PIPE, text=True)
    seen = 0
    for line in p.stdout:
        if line.startswith('step'):
            seen = int(line.split()[1])
            if seen >= 12: p.send_signal(signal.SIGKILL); break
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL
    ckpts = sorted(out.glob('checkpoints/checkpoint-*'))
    assert ckpts and not (out/'pytorch_lora_weights.safetensors').exists()
    last = max(int(c.name.split('-')[1]) for c in ckpts)
    r = subprocess.run([sys.executable, '-c', SCRIPT, str(out), '30'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    done = [l for l in r.stdout.splitlines() if l.startswith('done')][0].split()
    assert int(done[1]) == 30 and int(done[2]) == last
    steps = [int(l.split()[1]) for l in r.stdout.splitlines() if l.startswith('step')]
    assert steps[0] == last + 1 and steps[-1] == 30           # no step lost, none done twice
    meta = json.loads((out/'adapter.json').read_text())
    assert meta['steps'] == 30 and not (out/'checkpoints').exists()


def test_corrupt_checkpoint_is_named(tmp_path):
    from fairsynth_nb.data import colored_mnist
    from fairsynth_nb.models import load_pipeline
    from fairsynth_nb.finetune import train_adapter
    cm = colored_mnist(0.99, seed=0)
    imgs = list(cm[(cm.split == 'train') & (cm.group == 0)].image[:8])
    out = tmp_path/'a'
    cfg = FinetuneConfig(max_train_steps=10, checkpointing_steps=5, train_batch_size=4, with_prior_preservation=False)
    def stop(s):
        if s == 6: raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt): train_adapter(load_pipeline(device='cpu'), imgs, 'a photo', out, cfg, progress=False, on_step=stop)
    state = out/'checkpoints'/'checkpoint-5'/'state.pt'
    state.write_bytes(b'not a checkpoint')
    with pytest.raises(FairsynthError, match='checkpoint-5 is corrupt'):
        train_adapter(load_pipeline(device='cpu'), imgs, 'a photo', out, cfg, progress=False)


def test_zero_images(tmp_path):
    from fairsynth_nb.models import load_pipeline
    from fairsynth_nb.finetune import train_adapter
    with pytest.raises(FairsynthError, match='no training image'):
        train_adapter(load_pipeline(device='cpu'), [], 'a photo', tmp_path/'x', FinetuneConfig(), progress=False)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('runs')/'r'
    assert main(['bias', '--severity', '0.99', '--out', out]) == 0
    cfg = json.loads((out/'config.json').read_text())
    # prior preservation on (off by default since 2026-12-02), so the stage's class-image path stays tested end to end
    cfg['finetune'].update(max_train_steps=6, checkpointing_steps=3, train_batch_size=4, num_class_images=4, min_images=10, with_prior_preservation=True)
    cfg['cluster'].update(k=2)
    (out/'config.json').write_text(json.dumps(cfg))
    return out


def test_cluster_command(run, capsys):
    assert main(['cluster', '--run', run]) == 0
    a = pd.read_csv(run/'clusters'/'assignments.csv')
    # k=2, but the rare groups' 18 images make one cluster each: every cluster keeps min_images=10 images for its generator
    assert set(a.columns) == {'id', 'group', 'y', 'a', 'cluster'} and a.groupby('group').cluster.nunique().tolist() == [2, 1, 1, 2]
    assert a.groupby(['group', 'cluster']).size().min() >= 10
    s = json.loads((run/'clusters'/'summary.json').read_text())
    assert all('ari' in v for v in s.values() if v['k'] > 1) and s['y=0,a=1']['clipped_from'] == 2
    assert len(list((run/'clusters').glob('group_*.png'))) == 4


def test_finetune_clustered_command(run):
    assert main(['cluster', '--run', run]) == 0
    assert main(['finetune', '--run', run, '--generator', 'clustered']) == 0
    idx = json.loads((run/'adapters'/'clustered'/'index.json').read_text())
    # the two large groups give 2 clusters each, the rare groups (18 images) one: no cluster is left without its adapter
    assert len(idx['adapters']) == 6 and not idx['skipped']
    for ad in idx['adapters']:
        meta = json.loads((run/ad['path']/'adapter.json').read_text())
        assert meta['steps'] == 6 and meta['token'] == 'sks' and meta['n_class_images'] == 4
    # rerun: skipped by the marker
    t = (run/'adapters'/'clustered'/'index.json').stat().st_mtime_ns
    assert main(['finetune', '--run', run, '--generator', 'clustered']) == 0
    assert (run/'adapters'/'clustered'/'index.json').stat().st_mtime_ns == t
    # --compile-unet: written to the config; the adapters' own hashes leave it out, so none retrains (no compile either)
    metas = {ad['path']: (run/ad['path']/'adapter.json').read_text() for ad in idx['adapters']}
    assert main(['finetune', '--run', run, '--generator', 'clustered', '--compile-unet']) == 0
    assert json.loads((run/'config.json').read_text())['finetune']['compile_unet'] is True
    assert {p: (run/p/'adapter.json').read_text() for p in metas} == metas
    # --no-compile-unet turns the saved switch off again (the tests after this one train new adapters on this run: uncompiled)
    assert main(['finetune', '--run', run, '--generator', 'clustered', '--no-compile-unet']) == 0
    assert json.loads((run/'config.json').read_text())['finetune']['compile_unet'] is False
    assert {p: (run/p/'adapter.json').read_text() for p in metas} == metas


def test_finetune_bad_input(run, tmp_path, capsys):
    assert main(['finetune', '--run', run, '--generator', 'textual_inversion']) == 2
    assert "unknown generator 'textual_inversion'" in capsys.readouterr().err
    fresh = tmp_path/'fresh'
    assert main(['bias', '--severity', '0.99', '--out', fresh]) == 0
    assert main(['finetune', '--run', fresh, '--generator', 'clustered']) == 2
    assert 'fairsynth cluster' in capsys.readouterr().err


def test_fewer_images_than_k_is_clipped():
    from fairsynth_nb.cluster import cluster_embeddings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        lab, info = cluster_embeddings(np.random.default_rng(0).normal(size=(3, 8)), k=5, name='y=1,a=0')
    assert info['k'] == 3 and info['clipped_from'] == 5 and any('clipped to k=3' in str(x.message) for x in w)


def test_text_encoder_lora_end_to_end(run):
    "finetune --train-text-encoder: adapters with a text-encoder part, generated through the batched (fused) path as by the adapter alone."
    from safetensors.torch import load_file
    from fairsynth_nb.models import load_pipeline, generate
    from fairsynth_nb.generate import load_adapters, generate_rows
    from fairsynth_nb.finetune import LORA_FILE
    assert main(['finetune', '--run', run, '--generator', 'lora', '--train-text-encoder']) == 0
    cfg = json.loads((run/'config.json').read_text())
    assert cfg['finetune']['train_text_encoder'] is True
    idx = json.loads((run/'adapters'/'lora'/'index.json').read_text())
    ad = idx['adapters'][0]
    assert json.loads((run/ad['path']/'adapter.json').read_text())['hparams']['train_text_encoder'] is True
    assert any(k.startswith('text_encoder.') for k in load_file(run/ad['path']/LORA_FILE))
    prompt = json.loads((run/ad['path']/'adapter.json').read_text())['prompt']
    pipe = load_pipeline(device='cpu')
    rows = pd.DataFrame([dict(adapter=ad['path'], prompt=prompt, negative_prompt='', seed=s) for s in (1, 2)])
    names = load_adapters(pipe, rows, run)
    (_, batched), = list(generate_rows(pipe, rows, names, steps=4, batch_size=2))
    alone = load_pipeline(device='cpu'); alone.load_lora_weights(str(run/ad['path']), weight_name=LORA_FILE, adapter_name='x')
    ref = np.stack([generate(alone, [prompt], n=1, steps=4, seed=s)[0] for s in (1, 2)])
    assert np.abs(batched.astype(int) - ref).max() <= 2
    # inside the fused context the text encoder's LoRA is active too: the prompt's embedding is the adapter's, not the base's
    from fairsynth_nb.finetune import encode_prompts
    from fairsynth_nb.generate import fused, _lora_layers
    originals = {m: m.base_layer.weight.detach().clone() for m in _lora_layers(pipe.unet)}
    base = encode_prompts(load_pipeline(device='cpu'), [prompt])
    with fused(pipe, names[ad['path']], originals): e = encode_prompts(pipe, [prompt])
    assert torch.allclose(e, encode_prompts(alone, [prompt]), atol=1e-5) and not torch.equal(e, base)


def test_full_unet_end_to_end(tmp_path):
    "finetune --full-unet: whole-UNet DreamBooth adapters, then a balanced generated set drawn with them."
    from fairsynth_nb.finetune import UNET_FILE, LORA_FILE
    out = tmp_path/'full'
    assert main(['bias', '--severity', '0.99', '--out', out]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['finetune'].update(max_train_steps=4, checkpointing_steps=2, train_batch_size=4, num_class_images=4, min_images=5)
    (out/'config.json').write_text(json.dumps(cfg))
    assert main(['finetune', '--run', out, '--generator', 'dreambooth', '--full-unet', '--learning-rate', '1e-4']) == 0
    idx = json.loads((out/'adapters'/'dreambooth'/'index.json').read_text())
    assert len(idx['adapters']) == 4
    for ad in idx['adapters']:
        assert (out/ad['path']/UNET_FILE).is_file() and not (out/ad['path']/LORA_FILE).exists()
    assert main(['generate', '--run', out, '--generator', 'dreambooth', '--n-per-group', '3']) == 0
    m = pd.read_csv(out/'synthetic'/'dreambooth'/'manifest.csv')
    assert m[m.kept.astype(bool)].groupby('group').size().tolist() == [3, 3, 3, 3]
    assert set(m.adapter) == {ad['path'] for ad in idx['adapters']}


def torchrun2(*args):
    "Run `fairsynth *args` under torchrun with two processes on CPUs; fail with its stderr if it fails."
    script = Path(sys.executable).parent/'fairsynth'
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script), '--', *map(str, args)],
                       env={**os.environ, 'OMP_NUM_THREADS': '1'}, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]


def test_adapters_spread_over_processes(tmp_path):
    "torchrun with two processes on CPUs: the processes share the adapters (each trained once), one index is written."
    out = tmp_path/'mp'
    assert main(['bias', '--severity', '0.99', '--out', out]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['finetune'].update(max_train_steps=4, checkpointing_steps=2, train_batch_size=4, min_images=5)
    (out/'config.json').write_text(json.dumps(cfg))
    torchrun2('finetune', '--run', str(out), '--generator', 'lora')
    trained = [l.split('finetune: lora ')[1].split(':')[0] for l in (out/'logs'/'fairsynth.log').read_text().splitlines()
               if 'finetune: lora y=' in l]
    assert sorted(trained) == ['y=0,a=0/all', 'y=0,a=1/all', 'y=1,a=0/all', 'y=1,a=1/all'], trained
    assert len(json.loads((out/'adapters'/'lora'/'index.json').read_text())['adapters']) == 4


def test_generation_spread_over_processes(tmp_path):
    """torchrun with two processes: each makes a share of the planned images, the main process scores and filters;
    the plan, scores and images are those of a one-process run up to float rounding (each image has its own seed), no row twice."""
    from PIL import Image
    from fairsynth_nb.generate import run_generate
    out = tmp_path/'mp'
    assert main(['bias', '--severity', '0.99', '--out', out]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['generate'].update(n_per_group=6, num_inference_steps=4, threshold=0.65, max_rounds=1)   # a retry round: some groups fall short
    (out/'config.json').write_text(json.dumps(cfg))
    one = tmp_path/'one'
    import shutil; shutil.copytree(out, one)
    torchrun2('generate', '--run', str(out), '--generator', 'vanilla')
    m2 = pd.read_csv(out/'synthetic'/'vanilla'/'manifest.csv', keep_default_na=False)
    m1 = run_generate(one, 'vanilla', progress=False)
    assert not m2.row.duplicated().any() and not m2.file.duplicated().any()
    assert (m2["round"] == 1).any()                      # the extra round was shared out too
    made = [int(l.split(' made ')[1].split()[0]) for l in (out/'logs'/'fairsynth.log').read_text().splitlines() if ' of 2 made ' in l]
    assert len(made) == 2 and sum(made) == len(m2) and max(made) <= len(m2) // 2 + 2, made     # each made about half
    # the plan's rows are those of one process; the images and scores agree up to float rounding (other batches and
    # thread counts sum in another order: at most a few 1/255 steps), so an extra round's rows may differ at the margin
    cols = ['row', 'file', 'group', 'seed', 'prompt', 'adapter']
    r0 = lambda m: m[m['round'] == 0][cols].sort_values('row').reset_index(drop=True)
    pd.testing.assert_frame_equal(r0(m2), r0(m1), check_dtype=False)
    both = m1.merge(m2, on=cols, suffixes=('_1', '_2'))
    assert len(both) >= len(r0(m1))
    np.testing.assert_allclose(both.clip_score_1.values, both.clip_score_2.values, atol=5e-3)
    for f in both.file:
        d = np.abs(np.asarray(Image.open(out/'synthetic'/'vanilla'/f), dtype=int) - np.asarray(Image.open(one/'synthetic'/'vanilla'/f), dtype=int))
        assert d.max() <= 4, (f, d.max())
    assert m2.groupby('group').kept.sum().max() <= 6                  # no group over its quota


def test_ddm_models_spread_over_processes(tmp_path):
    "torchrun with two processes: the ddm generator's two class models are trained once each, one per process; one index."
    out = tmp_path/'mp'
    assert main(['bias', '--severity', '0.9', '--out', out]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['finetune'].update(max_train_steps=3, checkpointing_steps=2, train_batch_size=4)
    cfg['ddm'] = {**cfg.get('ddm', {}), 'labels': 'attribute'}
    (out/'config.json').write_text(json.dumps(cfg))
    torchrun2('finetune', '--run', str(out), '--generator', 'ddm')
    trained = [l.split('finetune: ddm ')[1].split(':')[0] for l in (out/'logs'/'fairsynth.log').read_text().splitlines() if 'finetune: ddm y=' in l]
    assert sorted(trained) == ['y=0', 'y=1'], trained
    idx = json.loads((out/'adapters'/'ddm'/'index.json').read_text())
    assert [a['y'] for a in idx['adapters']] == [0, 1]
    assert all((out/a['path']/'pytorch_lora_weights.safetensors').is_file() for a in idx['adapters'])
    # then its generation: the plan's batches shared out, every planned row once, the main process filtering
    cfg = json.loads((out/'config.json').read_text())
    cfg['generate'].update(n_per_group=8, num_inference_steps=3)
    (out/'config.json').write_text(json.dumps(cfg))
    torchrun2('generate', '--run', str(out), '--generator', 'ddm')
    m = pd.read_csv(out/'synthetic'/'ddm'/'manifest.csv', keep_default_na=False)
    assert not m.row.duplicated().any() and sorted(m.row) == list(range(len(m))) and m.kept.dtype == bool
    made = [int(l.split(' made ')[1].split()[0]) for l in (out/'logs'/'fairsynth.log').read_text().splitlines() if 'ddm process' in l]
    assert len(made) == 2 and sum(made) == len(m) and min(made) > 0, made


def _lora_run(out, **finetune):
    assert main(['bias', '--severity', '0.99', '--out', str(out)]) == 0
    cfg = json.loads((out/'config.json').read_text())
    cfg['finetune'].update(dict(max_train_steps=6, checkpointing_steps=3, train_batch_size=4, min_images=5) | finetune)
    (out/'config.json').write_text(json.dumps(cfg))

def _weights(out):
    return {f.parent.parent.name: f.read_bytes() for f in sorted(out.glob('adapters/lora/*/*/pytorch_lora_weights.safetensors'))}

CPU = {**os.environ, 'CUDA_VISIBLE_DEVICES': ''}     # worker processes are for CPUs: on a GPU machine too, these tests run there

def _finetune(out, **env):
    r = subprocess.run([str(Path(sys.executable).parent/'fairsynth'), 'finetune', '--run', str(out), '--generator', 'lora'],
                       capture_output=True, text=True, timeout=600, env={**CPU, **env})
    assert r.returncode == 0, r.stderr[-3000:]
    return r

def test_workers_make_the_same_adapters(tmp_path):
    "Two worker processes (one thread each) make bit-for-bit the adapters that one process on one thread makes; one bar counts all their steps."
    _lora_run(tmp_path/'one', workers=1); _lora_run(tmp_path/'two', workers=2)
    _finetune(tmp_path/'one', OMP_NUM_THREADS='1'); r = _finetune(tmp_path/'two')
    assert 'lora: 4 models on 2 workers' in r.stderr and '24/24' in r.stderr, r.stderr[-2000:]
    assert 'on 2 worker processes' in (tmp_path/'two'/'logs'/'fairsynth.log').read_text()
    assert 'worker processes' not in (tmp_path/'one'/'logs'/'fairsynth.log').read_text()
    one, two = _weights(tmp_path/'one'), _weights(tmp_path/'two')
    assert len(one) == 4 and one == two

def test_workers_end_with_their_parent(tmp_path):
    "SIGKILL to the stage's process: its workers stop within a second or so, and a rerun finishes every adapter from the checkpoints."
    out = tmp_path/'k'
    _lora_run(out, workers=2, max_train_steps=60, checkpointing_steps=5)
    exe = str(Path(sys.executable).parent/'fairsynth')
    p = subprocess.Popen([exe, 'finetune', '--run', str(out), '--generator', 'lora'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CPU)
    t0 = time.time()
    while not list(out.glob('adapters/lora/*/all/checkpoints/checkpoint-*')) and time.time() - t0 < 300: time.sleep(0.1)
    assert p.poll() is None, 'the stage ended before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    time.sleep(3)
    files = lambda: {f: f.stat().st_mtime_ns for f in out.glob('adapters/**/*') if f.is_file()}
    before = files(); time.sleep(3)
    assert files() == before, 'a worker kept training after its parent was killed'
    assert not _weights(out) or len(_weights(out)) < 4
    _finetune(out)
    metas = [json.loads(f.read_text()) for f in sorted(out.glob('adapters/lora/*/all/adapter.json'))]
    assert len(metas) == 4 and all(m['steps'] == 60 for m in metas) and any(m['resumed_from'] > 0 for m in metas)
