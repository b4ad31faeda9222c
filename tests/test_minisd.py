"Fast tests of the embedded mini-SD / mini-CLIP: train each part a few steps, load, bad input, resume."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, pytest, torch
from fairsynth_nb.core import FairsynthError, load_json
from fairsynth_nb.minisd import pretrain_mini, latest_checkpoint, build_tokenizer, text_tower, PARTS
from fairsynth_nb.models import load_pipeline, load_clip, generate, MINISD_PATH

torch.set_num_threads(int(os.environ.get('FAIRSYNTH_THREADS', 2)))
CKW = dict(n_per_digit=10, n_test_per_digit=2)

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp('mini')
    pretrain_mini(out, steps=2, corpus_kw=CKW, checkpointing_steps=1, quiet=True)
    return out

def test_train_and_load(trained):
    rec = load_json(trained/'TRAINING.json')
    assert {p: rec['parts'][p]['steps'] for p in PARTS} == dict(clip=2, vae=2, unet=2)
    pipe = load_pipeline(trained/'minisd', device='cpu')
    from diffusers import StableDiffusionPipeline
    assert isinstance(pipe, StableDiffusionPipeline) and pipe.safety_checker is None
    ims = generate(pipe, "a photo of the digit seven on a red background", n=2, steps=2)
    assert ims.shape == (2, 32, 32, 3) and ims.dtype == np.uint8
    model, proc = load_clip(trained/'miniclip', device='cpu')
    for v1, v2 in zip(text_tower(model).state_dict().values(), text_tower(pipe.text_encoder).state_dict().values()):
        assert torch.equal(v1, v2)
    px = proc(images=[ims[0]], return_tensors='pt').pixel_values
    assert px.shape == (1, 3, 32, 32)

def test_out_of_vocabulary_prompt(trained):
    pipe = load_pipeline(trained/'minisd', device='cpu')
    ims = generate(pipe, ["a hippopotamus wearing a tuxedo, trending on artstation!", "sks digit"], n=1, steps=2)
    assert ims.shape == (2, 32, 32, 3)
    tok = build_tokenizer()
    assert len(tok.tokenize('sks')) == 1 and len(tok.tokenize('hippopotamus')) > 1

def test_missing_and_truncated(trained, tmp_path):
    import shutil
    d = tmp_path/'minisd'; shutil.copytree(trained/'minisd', d)
    w = d/'vae'/'diffusion_pytorch_model.safetensors'
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(FairsynthError, match='vae/diffusion_pytorch_model.safetensors'): load_pipeline(d)
    w.unlink()
    with pytest.raises(FairsynthError, match='vae/diffusion_pytorch_model.safetensors is missing'): load_pipeline(d)
    c = tmp_path/'miniclip'; shutil.copytree(trained/'miniclip', c)
    (c/'model.safetensors').write_bytes((c/'model.safetensors').read_bytes()[:-10])
    with pytest.raises(FairsynthError, match='model.safetensors is truncated'): load_clip(c)
    (c/'model.safetensors').unlink()
    with pytest.raises(FairsynthError, match='model.safetensors is missing'): load_clip(c)

def test_out_is_a_file(tmp_path):
    f = tmp_path/'weights.txt'; f.write_text('x')
    with pytest.raises(FairsynthError, match='is a file'): pretrain_mini(f, steps=1)

def test_bad_steps(tmp_path):
    with pytest.raises(FairsynthError, match='positive integer'): pretrain_mini(tmp_path, steps=-3)
    with pytest.raises(FairsynthError, match='unknown part'): pretrain_mini(tmp_path, parts=('gan',))

def test_resume(trained):
    # the fixture trained the VAE for 2 steps with a checkpoint every step; continue to 4
    pretrain_mini(trained, steps=dict(vae=4), parts=('vae',), corpus_kw=CKW, checkpointing_steps=1, quiet=True)
    rec = load_json(trained/'TRAINING.json')
    assert rec['parts']['vae']['resumed_from'] == 2 and rec['parts']['vae']['steps'] == 4
    assert latest_checkpoint(trained/'checkpoints'/'vae').name == 'step_0000004.pt'
    # same steps again: skipped
    pretrain_mini(trained, steps=dict(vae=4), parts=('vae',), corpus_kw=CKW, quiet=True)
    assert load_json(trained/'TRAINING.json')['parts']['vae']['resumed_from'] == 2

@pytest.mark.skipif(not (MINISD_PATH/'model_index.json').exists(), reason='shipped weights not built yet')
def test_shipped_weights():
    pipe = load_pipeline(device='cpu')
    assert generate(pipe, "a photo of the digit one on a green background", n=1, steps=2).shape == (1, 32, 32, 3)
    model, proc = load_clip(device='cpu')
    size = sum(f.stat().st_size for f in MINISD_PATH.parent.rglob('*') if f.is_file())
    assert size < 25e6, size

def test_resume_after_sigkill(tmp_path):
    "A training process killed with SIGKILL resumes from its last checkpoint."
    import subprocess, sys, time, signal
    code = ("from fairsynth_nb.minisd import pretrain_mini; import sys; "
            "pretrain_mini(sys.argv[1], steps=dict(clip=400), parts=('clip',), corpus_kw=dict(n_per_digit=10, n_test_per_digit=2), checkpointing_steps=5, quiet=True)")
    p = subprocess.Popen([sys.executable, '-c', code, str(tmp_path)], env=dict(os.environ, FAIRSYNTH_THREADS='1'))
    ck_dir, t0 = tmp_path/'checkpoints'/'clip', time.time()
    try:
        while latest_checkpoint(ck_dir) is None or latest_checkpoint(ck_dir).name < 'step_0000010.pt':
            assert p.poll() is None and time.time() - t0 < 120, 'training ended or never checkpointed'
            time.sleep(0.2)
    finally: p.send_signal(signal.SIGKILL); p.wait()
    killed_at = int(latest_checkpoint(ck_dir).stem.split('_')[1])
    assert 10 <= killed_at < 400
    pretrain_mini(tmp_path, steps=dict(clip=killed_at + 5), parts=('clip',), corpus_kw=CKW, checkpointing_steps=5, quiet=True)
    rec = load_json(tmp_path/'TRAINING.json')['parts']['clip']
    assert rec['resumed_from'] == killed_at and rec['steps'] == killed_at + 5
    load_clip(tmp_path/'miniclip')
