"""A faithful re-implementation of the inner loop of diffusers' examples/dreambooth/train_dreambooth_lora.py, the
reference of the finetuning speed comparisons (finetune_speed.py on mini-SD, gpu_sd15.py on a Stable Diffusion 1.5-sized
model): no caching, so every step transforms and VAE-encodes its images and tokenises and text-encodes its prompts; with
prior preservation, instance and class examples in one batch; the LoRA weights in float32 on a frozen base in the
pipeline's dtype, under accelerate's mixed precision (autocast, loss scaling), as the script does."""
import time
import torch, torch.nn.functional as F


def _prep(pipe):
    "The script's per-item image transform and tokeniser for `pipe`, and a device synchronisation for timing."
    from torchvision import transforms
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    tok = lambda t: pipe.tokenizer(t, padding='max_length', max_length=pipe.tokenizer.model_max_length, truncation=True, return_tensors='pt').input_ids[0]
    sync = torch.cuda.synchronize if str(pipe.device).startswith('cuda') else (lambda: None)
    return tf, tok, sync


def diffusers_style(pipe, imgs, cls, prompt, cprompt, cfg, steps:int, batch:int, accelerator=None) -> float:
    "Train a LoRA (cfg.rank, cfg.lora_targets) for `steps` steps the script's way; returns the seconds it took."
    from accelerate import Accelerator
    from diffusers import DDPMScheduler
    from fairsynth_nb.data import load_image
    from fairsynth_nb.finetune import add_lora, remove_lora
    acc = accelerator or Accelerator()
    dev, unet = pipe.device, pipe.unet
    tf, tok, sync = _prep(pipe)

    class DreamBoothDataset(torch.utils.data.Dataset):        # as in the script: transforms and tokenisation per item
        def __len__(self): return max(len(imgs), len(cls))
        def __getitem__(self, i):
            return dict(instance_images=tf(load_image(imgs[i % len(imgs)])), instance_prompt_ids=tok(prompt),
                        class_images=tf(load_image(cls[i % len(cls)])), class_prompt_ids=tok(cprompt))

    def collate(ex):   # with_prior_preservation: instance and class examples in one batch
        px = torch.stack([e['instance_images'] for e in ex] + [e['class_images'] for e in ex])
        ids = torch.stack([e['instance_prompt_ids'] for e in ex] + [e['class_prompt_ids'] for e in ex])
        return px, ids

    dl = torch.utils.data.DataLoader(DreamBoothDataset(), batch_size=batch, shuffle=True, collate_fn=collate, num_workers=0)
    sched = DDPMScheduler.from_config(pipe.scheduler.config)
    torch.manual_seed(0)
    params = add_lora(unet, cfg.rank, cfg.lora_targets)      # float32 LoRA weights (diffusers' cast_training_params)
    opt = acc.prepare_optimizer(torch.optim.AdamW(params, lr=cfg.learning_rate))
    unet.train(); n = 0
    weight_dtype = pipe.vae.dtype                            # the script's `weight_dtype`, set once before the loop
    sync(); t0 = time.time()
    while n < steps:
        for px, ids in dl:
            px, ids = px.to(dev, weight_dtype), ids.to(dev)
            with torch.no_grad():
                lat = pipe.vae.encode(px).latent_dist.sample() * pipe.vae.config.scaling_factor
                enc = pipe.text_encoder(ids)[0]
            noise = torch.randn_like(lat)
            t = torch.randint(0, sched.config.num_train_timesteps, (len(lat),), device=dev)
            with acc.autocast():
                pred = unet(sched.add_noise(lat, noise, t), t, enc).sample
            pi, pc = pred.chunk(2); ti, tc = noise.chunk(2)
            loss = F.mse_loss(pi.float(), ti.float()) + cfg.prior_loss_weight * F.mse_loss(pc.float(), tc.float())
            acc.backward(loss); opt.step(); opt.zero_grad()
            n += 1
            if n >= steps: break
    sync(); dt = time.time() - t0
    remove_lora(unet); unet.eval()
    return dt


def step_parts(pipe, imgs, cls, prompt, cprompt, cfg, batch:int, n:int=10) -> dict:
    """Milliseconds per step of each part of the reference loop's step, timed apart on the same batches: `data` (load,
    transform, tokenise), `vae` (encode), `text` (encode), `unet` (noise, forward, backward, optimiser step). Caching
    saves `data`, `vae` and `text`; `unet` is what every loop pays, so (sum / unet) bounds what caching can gain."""
    from fairsynth_nb.data import load_image
    from fairsynth_nb.finetune import add_lora, remove_lora
    dev, unet = pipe.device, pipe.unet
    tf, tok, sync = _prep(pipe)
    wd = pipe.vae.dtype
    def data():
        px = torch.stack([tf(load_image(imgs[i % len(imgs)])) for i in range(batch)] + [tf(load_image(cls[i % len(cls)])) for i in range(batch)])
        ids = torch.stack([tok(prompt)] * batch + [tok(cprompt)] * batch)
        return px.to(dev, wd), ids.to(dev)
    px, ids = data()
    with torch.no_grad():
        vae = lambda: pipe.vae.encode(px).latent_dist.sample() * pipe.vae.config.scaling_factor
        text = lambda: pipe.text_encoder(ids)[0]
        lat, enc = vae(), text()
    params = add_lora(unet, cfg.rank, cfg.lora_targets); opt = torch.optim.AdamW(params, lr=cfg.learning_rate)   # the script's optimiser
    unet.train(); dt = unet.dtype
    def step():
        noise = torch.randn_like(lat); t = torch.randint(0, 1000, (len(lat),), device=dev)
        with torch.autocast(dev.type, enabled=dt != torch.float32, dtype=dt):
            pred = unet((lat + noise).to(dt), t, enc.to(dt)).sample
        F.mse_loss(pred.float(), noise.float()).backward(); opt.step(); opt.zero_grad()
    def ms(f):
        with torch.no_grad() if f is not step else torch.enable_grad():
            f(); sync(); t0 = time.time()
            for _ in range(n): f()
            sync(); return (time.time() - t0) / n * 1000
    res = dict(data=ms(data), vae=ms(vae), text=ms(text), unet=ms(step))
    remove_lora(unet); unet.eval()
    return res
