"""The device rule without a GPU: a function runs where its model lives, or moves the model to the accelerator's device.

CI has no GPU, so the tests give the accelerator a second device that CPU-only PyTorch has: `meta` (tensors with a shape
and no data). Any operation that mixes a CPU tensor with a meta tensor fails with "... is not on the expected device ...",
as a CUDA run fails when a CPU model meets a CUDA batch. The meta run itself stops at the first read of data (copying a
latent back to the CPU), which is fine: what must not appear is a mixed-device error."""
import numpy as np, pytest, torch

from fairsynth_nb.core import FinetuneConfig

MIXED = ('expected device', 'found at least two devices', 'different from other tensors')


class OnDevice:
    "An accelerate `Accelerator` that reports `device` as its device (everything else is the real accelerator's)."
    def __init__(self, acc, device): self._acc, self.device = acc, torch.device(device)
    def __getattr__(self, k): return getattr(self._acc, k)


def mixed(e: BaseException) -> bool: return any(m in str(e) for m in MIXED)


def test_meta_and_cpu_do_not_mix():
    "The premise: PyTorch refuses an operation on a CPU model and a meta batch (the guard's alarm works)."
    with pytest.raises(RuntimeError) as e: torch.nn.Linear(4, 4)(torch.zeros(2, 4, device='meta'))
    assert mixed(e.value)


def test_train_adapter_follows_the_accelerator(tmp_path):
    "A pipeline loaded on the CPU, an accelerator elsewhere: `train_adapter` moves the models, as diffusers' scripts do."
    from fairsynth_nb.data import colored_mnist
    from fairsynth_nb.models import load_pipeline
    from fairsynth_nb.finetune import train_adapter, make_accelerator
    cm = colored_mnist(0.99, seed=0)
    imgs = list(cm[(cm.split == 'train') & (cm.group == 0)].image[:8])
    pipe = load_pipeline(device='cpu')
    cfg = FinetuneConfig(max_train_steps=2, train_batch_size=2, with_prior_preservation=False)
    acc = OnDevice(make_accelerator(), 'meta')
    try: train_adapter(pipe, imgs, 'a photo', tmp_path/'a', cfg, accelerator=acc, progress=False)
    except (RuntimeError, NotImplementedError) as e:
        assert not mixed(e), f"train_adapter mixed devices: {e}"
    assert pipe.unet.device.type == 'meta' and pipe.vae.device.type == 'meta'


@pytest.fixture(scope='module')
def clip_and_images():
    from fairsynth_nb.data import colored_mnist
    from fairsynth_nb.models import load_clip
    cm = colored_mnist(0.99, seed=0)
    return load_clip(device='cpu'), list(cm[cm.split == 'test'].image[:6])


def _clip_calls():
    from fairsynth_nb.cluster import clip_image_embeddings, clip_patch_embeddings, clip_text_embeddings
    from fairsynth_nb.generate import clip_scores
    from fairsynth_nb.cluster import clip_zero_shot
    return {'clip_image_embeddings': lambda m, p, ims: clip_image_embeddings(ims, m, p),
            'clip_patch_embeddings': lambda m, p, ims: clip_patch_embeddings(ims, m, p, n_components=2),
            'clip_text_embeddings': lambda m, p, ims: clip_text_embeddings(['a photo of a digit'], m, p),
            'clip_scores': lambda m, p, ims: clip_scores(ims, 'a photo of a digit', np.ones(m.config.projection_dim), m, p),
            'clip_zero_shot': lambda m, p, ims: clip_zero_shot(ims, m, p, [['a red digit'], ['a green digit']])}


@pytest.mark.parametrize('name', list(_clip_calls()))
def test_clip_functions_follow_the_model(clip_and_images, name):
    "Each CLIP helper runs where its model lives (here: meta) and in its dtype (here: bfloat16 on the CPU)."
    import copy
    (model, proc), ims = clip_and_images
    call = _clip_calls()[name]
    try: call(copy.deepcopy(model).to('meta'), proc, ims)
    except (RuntimeError, NotImplementedError) as e: assert not mixed(e), f"{name} mixed devices: {e}"
    out = call(copy.deepcopy(model).to(torch.bfloat16), proc, ims)     # float32 inputs into a bfloat16 model would fail
    assert np.isfinite(np.asarray(out, dtype=float)).all()
