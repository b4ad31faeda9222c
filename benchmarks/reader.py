"""A reader of Colored MNIST images trained on real data: which group (y = digit >= 5, a = colour) an image shows.

Digits: a small CNN trained on the 5,000 real MNIST digits in grey (colour cannot help it), 20 epochs of one-cycle Adam
(reader v2, 2026-12-02: 99.3% digit / 99.5% y on the real test split; v1, 4 epochs of plain Adam, read 94.0% / 96.6%, and
the fidelity figures measured before 2026-12-02 used v1). Colour: the mean of the frame
pixels, red or green by which channel dominates; with `strict=True` (2026-12-02), the frame's chromaticity (rgb / sum) must
also lie within `PALETTE_TOL` of the dataset's red or green, else the colour reads -1 (an orange, yellow or blue frame is
neither, where the lenient rule calls it red or green). Used by the fidelity benchmarks of the generators.
"""
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from pathlib import Path
from fairsynth_nb.data import mnist5k, colored_mnist, colour_mask, COLOURS, COLOUR_NAMES

_CACHE = Path('/tmp/fairsynth_reader_v2.pt')

def _net():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10))

def digit_reader(epochs=20, seed=0):
    "A digit classifier on 32x32 grey images (white strokes), trained on Colored MNIST's train+val images (grey max channel)."
    if _CACHE.exists():
        m = _net(); m.load_state_dict(torch.load(_CACHE)); return m.eval()
    torch.manual_seed(seed)
    cm = colored_mnist(0.9, seed=1)
    d = cm[cm.split != 'test']
    x = torch.tensor(np.stack([np.asarray(i).min(-1) for i in d.image]), dtype=torch.float32).unsqueeze(1) / 255.  # min channel: strokes only
    y = torch.tensor(d.digit.values)
    m = _net(); opt = torch.optim.Adam(m.parameters(), 1e-3)
    bs = 128; per_epoch = (len(x) + bs - 1) // bs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * per_epoch)
    with torch.enable_grad():
      for ep in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), bs):
            b = perm[i:i+bs]; loss = F.cross_entropy(m(x[b]), y[b]); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    torch.save(m.state_dict(), _CACHE)
    return m.eval()

PALETTE_TOL = 0.15

def _chroma(rgb): rgb = np.asarray(rgb, np.float32); return rgb / np.maximum(rgb.sum(-1, keepdims=True), 1e-6)

def frame_colour(images, strict:bool=False) -> np.ndarray:
    "a (0 red, 1 green) read from the mean of the frame pixels; `strict`: -1 where the frame is not the dataset's red or green."
    arr = np.stack([np.asarray(i) for i in images]).astype(np.float32)
    rgb = arr[:, colour_mask(arr.shape[1], 0.25)].mean(1)
    a = (rgb[:, 1] > rgb[:, 0]).astype(int)      # green channel dominates: a = 1 (green), else red
    if strict:
        dist = np.linalg.norm(_chroma(rgb) - _chroma([COLOURS[c] for c in COLOUR_NAMES])[a], axis=-1)
        a = np.where(dist <= PALETTE_TOL, a, -1)
    return a

@torch.no_grad()
def read(images, model=None, strict:bool=False):
    "(digit, y, a) predicted for uint8 RGB 32x32 images; `strict`: a = -1 where the frame is not the dataset's red or green."
    model = model or digit_reader()
    arr = np.stack([np.asarray(i) for i in images]).astype(np.float32)
    x = torch.tensor(arr.min(-1) / 255.).unsqueeze(1)
    digit = model(x).argmax(1).numpy()
    return digit, (digit >= 5).astype(int), frame_colour(arr, strict)

def real_accuracy(model=None):
    "The reader's accuracy on Colored MNIST's real test split (0.99, seed 0): a ceiling for every fidelity figure."
    cm = colored_mnist(0.99, seed=0); t = cm[cm.split == 'test']
    d, y, a = read(list(t.image), model)
    s = frame_colour(list(t.image), strict=True)
    return dict(digit=float(np.mean(d == t.digit)), y=float(np.mean(y == t.y)), colour=float(np.mean(a == t.a)),
                colour_strict=float(np.mean(s == t.a)))

if __name__ == '__main__':
    r = real_accuracy()
    print(f"reader on the real test split: digit {r['digit']:.3f}, y {r['y']:.3f}, colour {r['colour']:.3f}")
