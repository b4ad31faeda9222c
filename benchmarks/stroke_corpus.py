"""MNIST-like stroke masks without MNIST: the candidate corpus for retraining mini-CLIP and mini-SD (not used by the
shipped weights yet, which were trained on `fairsynth_nb.minisd.digits_corpus`).

Measured on 2 CPU cores, 2026-12-01 (one seed each):
- a small CNN trained on 20,000 of these masks alone reads the 5,000 MNIST digits of Colored MNIST at 88.2%
  (`python benchmarks/corpus_reader.py --n 2000`); today's corpus (sklearn's scans upscaled) gave a mini-CLIP that reads
  22.9% zero-shot; a mini-CLIP trained on these masks (same architecture, 1,500 steps) reads 34.7% zero-shot
  (`python benchmarks/corpus_clip.py`);
- the errors left are handwriting shapes neither source has: MNIST 2s with a looped base (read as 8 or 7), 6s read as
  4, 9s with a straight stem read as 7 or 4;
- 30,000 masks take 45-49 s on one thread.

`stroke_masks` draws digit masks (float32 in [0,1], strokes = 1, shape (n, size, size)) from two sources
that are disjoint from MNIST:

* ``'sklearn'``: the 1,797 handwritten 8x8 scans of `sklearn.datasets.load_digits`, upscaled and
  re-thresholded into strokes;
* ``'fonts'``: the digits 0-9 of the TrueType fonts that matplotlib ships, rendered with PIL.

Every base glyph is a binary-ish mask on a HI x HI canvas.  A batch of samples is then, all in torch:
  1. warped by one `grid_sample`: random affine (rotation, shear, scale, aspect) + smooth elastic field;
  2. re-stroked, either as an outline (Gaussian blur then a per-sample threshold: thinner or thicker), or, for
     font glyphs and loop-free scans (`p_pen`), as a uniform round pen along the glyph's Zhang-Suen skeleton;
  3. normalised like MNIST: bounding box scaled to fit a 20x20 box (aspect kept), centre of mass placed at
     the centre of the 28x28 frame, padded to `size` (32): one more `grid_sample`, super-sampled and
     average-pooled so that edges are anti-aliased.
Held-out part: scans split by index (last `TEST_FRAC` of the scans), fonts split by font file
(`TEST_FONTS`), so ``split == 'test'`` means unseen handwriting / unseen typefaces.
"""
from __future__ import annotations
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HI = 64            # side of the working canvas of base glyphs and warps
GLYPH = 48         # height of a base glyph on that canvas
TEST_FRAC = 0.2    # share of the sklearn scans (the last ones by index) held out

# matplotlib's fonts whose 0-9 are ordinary lining digits.  Left out: the symbol fonts (cmex10, cmsy10,
# STIXSize*Sym*, STIXNonUni*: no digits or other glyphs at those code points), cmmi10 (old-style digits with
# descenders), DejaVu*Display (no digits).
FONTS = ['DejaVuSans', 'DejaVuSans-Bold', 'DejaVuSans-Oblique', 'DejaVuSans-BoldOblique',
         'DejaVuSansMono', 'DejaVuSansMono-Bold', 'DejaVuSansMono-Oblique', 'DejaVuSansMono-BoldOblique',
         'DejaVuSerif', 'DejaVuSerif-Bold', 'DejaVuSerif-Italic', 'DejaVuSerif-BoldItalic',
         'STIXGeneral', 'STIXGeneralBol', 'STIXGeneralItalic', 'STIXGeneralBolIta',
         'cmr10', 'cmb10', 'cmti10', 'cmss10', 'cmtt10']
TEST_FONTS = ['DejaVuSans-Oblique', 'DejaVuSerif-Bold', 'STIXGeneralItalic', 'cmss10']

# augmentation strengths (module-level so experiments can override them)
AUG = dict(rot=20., shear=0.45, scale=0.12, aspect=0.45, elastic=0.14, elastic_grid=5,
           blur=2.0, thr=(0.35, 0.7), final_blur=(0.0, 0.6), font_thr_shift=0.0,
           p_pen=0.7, pen_sigma=2.5, pen=(0.25, 0.8), sk_pen_digits=(1, 2, 3, 5, 7),
           p_prune=0.0, prune_px=12)
# rot: max rotation (degrees); shear: max shear; scale: +- relative scale; aspect: max |log aspect|;
# elastic: max displacement of the elastic control points (in [-1,1] image units) on an elastic_grid^2 lattice;
# blur, thr: outline re-stroking (Gaussian sigma in HI px, threshold range; low = thick);
# font_thr_shift: added to thr for outline font glyphs (negative keeps thin serifs/hairlines);
# sk_pen_digits: scans of these digits may also be drawn with the pen (their skeletons have no loops to lose);
# p_pen: share of font samples (and scans of sk_pen_digits) drawn as a uniform pen along the glyph's skeleton, pen_sigma its blur and
#   pen: range of the threshold as a share of a straight line's peak (low = thick);
# p_prune: share of pen samples whose skeleton is pruned of branches < prune_px (serifs, flags; not for 4s,
#   whose short stem below the bar would go);
# final_blur: range of the weight of a sigma-0.7 px blurred copy mixed into the final 32x32 mask.


# ---------------------------------------------------------------- base glyphs
def _fit(m: np.ndarray, height: int = GLYPH, side: int = HI) -> np.ndarray:
    "Crop `m` (float, ink = 1) to its bounding box, resize to `height` rows (aspect kept) and centre on side x side."
    from PIL import Image
    ys, xs = np.nonzero(m > 0.5)
    m = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = m.shape
    s = height / max(h, w * height / (side - 4))            # keep very wide glyphs inside the canvas
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    im = Image.fromarray((m * 255).astype(np.uint8)).resize((nw, nh), Image.LANCZOS)
    out = np.zeros((side, side), np.float32)
    y0, x0 = (side - nh) // 2, (side - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = np.asarray(im, np.float32) / 255.
    return out.clip(0, 1)


@lru_cache(None)
def sklearn_bases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base masks (1797, HI, HI) from sklearn's 8x8 scans, their digits, and 'train'/'test' by scan index.
    The 8x8 values count ink pixels in 4x4 blocks of the original 32x32 bitmaps, so a bicubic upscale thresholded
    near half ink gives back strokes about one block wide."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.as_tensor(d.images, dtype=torch.float32)[:, None] / 16.
    x = F.pad(x, (1, 1, 1, 1))                                           # room for the upscale's ringing
    m = F.interpolate(x, scale_factor=GLYPH / 8, mode='bicubic', align_corners=False)[:, 0]
    m = ((m - 0.35) / 0.2).clamp(0, 1)                                     # soft threshold at ~45 % ink
    out = np.stack([_fit(a.numpy()) for a in m])
    n = len(out)
    split = np.where(np.arange(n) >= round(n * (1 - TEST_FRAC)), 'test', 'train')
    return out, d.target.astype(int), split


def font_dir() -> Path:
    import matplotlib
    return Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'


@lru_cache(None)
def font_bases() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    "Base masks (10 * n_fonts, HI, HI) of the digits of `FONTS`, their digits, font names and split by font."
    from PIL import Image, ImageDraw, ImageFont
    masks, digits, names = [], [], []
    for name in FONTS:
        path = font_dir() / f'{name}.ttf'
        if not path.exists(): continue
        font = ImageFont.truetype(str(path), 160)
        for dg in range(10):
            im = Image.new('L', (320, 320), 0)
            ImageDraw.Draw(im).text((160, 160), str(dg), fill=255, font=font, anchor='mm')
            masks.append(_fit(np.asarray(im, np.float32) / 255.)); digits.append(dg); names.append(name)
    names = np.array(names)
    split = np.where(np.isin(names, TEST_FONTS), 'test', 'train')
    return np.stack(masks), np.array(digits), names, split


# ---------------------------------------------------------------- skeletons (pen-drawn variants)
def _zs_tables() -> torch.Tensor:
    "Zhang-Suen removal rules as two 256-entry tables indexed by the 8-neighbour code sum(P[k] << k), P2..P9."
    t = torch.zeros(2, 256, dtype=torch.bool)
    for code in range(256):
        p = [(code >> k) & 1 for k in range(8)]          # P2, P3, ..., P9
        B, A = sum(p), sum(p[k] == 0 and p[(k + 1) % 8] == 1 for k in range(8))
        if 2 <= B <= 6 and A == 1:
            t[0, code] = p[0] * p[2] * p[4] == 0 and p[2] * p[4] * p[6] == 0
            t[1, code] = p[0] * p[2] * p[6] == 0 and p[0] * p[4] * p[6] == 0
    return t


def thin(m: torch.Tensor, max_iter: int = 40) -> torch.Tensor:
    "Zhang-Suen thinning of a batch of binary masks (n, H, W) to 1-px skeletons, vectorised with lookup tables."
    tab = _zs_tables()
    H, W = m.shape[1:]
    x = m.bool().clone()
    for _ in range(max_iter):
        changed = False
        for step in (0, 1):
            xp = F.pad(x.to(torch.uint8), (1, 1, 1, 1))
            # P2..P9: N, NE, E, SE, S, SW, W, NW
            nb = [xp[:, 0:H, 1:W+1], xp[:, 0:H, 2:W+2], xp[:, 1:H+1, 2:W+2], xp[:, 2:H+2, 2:W+2],
                  xp[:, 2:H+2, 1:W+1], xp[:, 2:H+2, 0:W], xp[:, 1:H+1, 0:W], xp[:, 0:H, 0:W]]
            code = nb[0].clone()
            for k in range(1, 8): code |= nb[k] << k
            rm = x & tab[step][code.long()]
            if rm.any(): x, changed = x & ~rm, True
        if not changed: break
    return x


def _n_neighbours(x: torch.Tensor) -> torch.Tensor:
    "Number of 8-neighbours that are on, for a bool batch (n, H, W)."
    k = torch.ones(1, 1, 3, 3); k[0, 0, 1, 1] = 0
    return F.conv2d(x[:, None].float(), k, padding=1)[:, 0].round()


def prune(sk: torch.Tensor, k: int) -> torch.Tensor:
    """Remove skeleton branches shorter than about `k` px (serifs, flags, spurs) from bool skeletons (n, H, W):
    peel end points k times, then regrow the surviving strokes' ends k steps along the original skeleton."""
    x = sk.clone()
    for _ in range(k):
        x = x & ~(x & (_n_neighbours(x) <= 1))
    y = x & (_n_neighbours(x) == 1)
    for _ in range(k):
        y = (F.max_pool2d(y[:, None].float(), 3, 1, 1)[:, 0] > 0) & sk
    return x | y


PEN_SIGMA0 = 1.0   # blur of a 1-px skeleton so that it can be warped with bilinear sampling


@lru_cache(None)
def skeleton_bases(src: str, prune_px: int = 0) -> np.ndarray:
    """The bases of `src` ('sklearn' or 'fonts') thinned to 1-px skeletons, optionally pruned of branches shorter
    than `prune_px` (serifs), and softened by PEN_SIGMA0 (line mass 1)."""
    m = sklearn_bases()[0] if src == 'sklearn' else font_bases()[0]
    sk = thin(torch.as_tensor(m) > 0.5)
    if prune_px: sk = prune(sk, prune_px)
    sk = sk.float()[:, None]
    return blur(sk, PEN_SIGMA0)[:, 0].numpy()   # a straight 1-px line becomes a Gaussian ridge of mass 1


# ---------------------------------------------------------------- batched augmentation
def _gauss_kernel(sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(3 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    return k / k.sum()


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    "Separable Gaussian blur of (n, 1, h, w)."
    if sigma <= 0: return x
    k = _gauss_kernel(sigma); r = len(k) // 2
    x = F.conv2d(F.pad(x, (r, r, 0, 0)), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r)), k.view(1, 1, -1, 1))


def warp(x: torch.Tensor, g: torch.Generator, aug: dict) -> torch.Tensor:
    "Random affine + elastic warp of a batch (n, 1, HI, HI) with one grid_sample."
    n = x.shape[0]
    u = lambda *s: torch.rand(*s, generator=g) * 2 - 1                   # uniform in [-1, 1]
    th = u(n) * math.radians(aug['rot'])
    sh = u(n) * aug['shear']
    sc = 1 + u(n) * aug['scale']
    asp = torch.exp(u(n) * aug['aspect'])
    sx, sy = sc * asp.sqrt(), sc / asp.sqrt()
    c, s = torch.cos(th), torch.sin(th)
    # output -> input map: inverse of (rotate . shear . scale); built directly as its inverse for simplicity
    A = torch.stack([torch.stack([c / sx, (-s + sh * c) / sx], -1), torch.stack([s / sy, (c + sh * s) / sy], -1)], 1)
    theta = torch.cat([A, 0.04 * u(n, 2, 1)], 2)                         # small shift, removed by normalisation anyway
    grid = F.affine_grid(theta, (n, 1, HI, HI), align_corners=False)
    if aug['elastic'] > 0:
        k = aug['elastic_grid']
        d = u(n, 2, k, k) * aug['elastic']
        d = F.interpolate(d, size=(HI, HI), mode='bicubic', align_corners=True)
        grid = grid + d.permute(0, 2, 3, 1)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


def restroke(x: torch.Tensor, thr: torch.Tensor, sigma: float) -> torch.Tensor:
    "Change the pen: blur, then a soft threshold at per-sample `thr` (low = thicker, high = thinner)."
    b = blur(x, sigma)
    return ((b - thr.view(-1, 1, 1, 1)) / 0.08 + 0.5).clamp(0, 1)


def pen_stroke(x: torch.Tensor, f: torch.Tensor, sigma: float) -> torch.Tensor:
    """Draw a soft skeleton (line mass 1, blur PEN_SIGMA0) with a round pen: blur by `sigma`, threshold at a share
    `f` of a straight line's peak, so the stroke is 2 * s * sqrt(-2 ln f) wide with s = sqrt(PEN_SIGMA0^2 + sigma^2)."""
    b = blur(x, sigma)
    peak = 1 / (math.sqrt(2 * math.pi) * math.hypot(PEN_SIGMA0, sigma))
    return ((b / peak - f.view(-1, 1, 1, 1)) / 0.15 + 0.5).clamp(0, 1)


def mnist_normalise(x: torch.Tensor, size: int = 32, ss: int = 4) -> torch.Tensor:
    """MNIST's normalisation of masks (n, 1, H, W): bounding box scaled to fit 20x20 (aspect kept), centre of mass
    at the centre of the 28x28 frame, padded to `size`.  Sampled at `ss` x resolution and average-pooled."""
    n, _, H, W = x.shape
    m = x[:, 0]
    on = m > 0.3
    rows, cols = on.any(2), on.any(1)
    idx = torch.arange(H, dtype=torch.float32)
    big = torch.tensor(1e9)
    y0 = torch.where(rows, idx, big).amin(1); y1 = torch.where(rows, idx, -big).amax(1) + 1
    x0 = torch.where(cols, idx, big).amin(1); x1 = torch.where(cols, idx, -big).amax(1) + 1
    s = 20. / torch.maximum(y1 - y0, x1 - x0).clamp(min=1)               # output px per input px
    w = m.sum((1, 2)).clamp(min=1e-6)
    cy = (m.sum(2) * (idx + 0.5)).sum(1) / w                              # centre of mass, pixel-edge coordinates
    cx = (m.sum(1) * (idx + 0.5)).sum(1) / w
    # output (pixel-edge coords in [0, size]) -> input: in = c + (out - size/2) / s ; then to [-1, 1]
    o = (torch.arange(size * ss, dtype=torch.float32) + 0.5) / ss - size / 2
    gx = (cx[:, None] + o[None] / s[:, None]) * 2 / W - 1
    gy = (cy[:, None] + o[None] / s[:, None]) * 2 / H - 1
    grid = torch.stack([gx[:, None, :].expand(-1, size * ss, -1), gy[:, :, None].expand(-1, -1, size * ss)], -1)
    y = F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return F.avg_pool2d(y, ss)


# ---------------------------------------------------------------- public API
def stroke_masks(n_per_digit: int, seed: int = 0, size: int = 32, sources=('sklearn', 'fonts'),
                 split: str | None = 'train', aug: dict | None = None, chunk: int = 2048):
    """`n_per_digit` augmented MNIST-like masks of each digit 0-9 from `sources` (a mix, drawn evenly over the
    chosen sources), deterministic for `seed`.  `split`: 'train', 'test' (unseen scans / fonts) or None (both).
    Returns masks float32 (n, size, size) in [0, 1], digit int (n,), source str (n,), split str (n,)."""
    aug = {**AUG, **(aug or {})}
    bases, bdig, bsrc, bsplit = [], [], [], []
    if 'sklearn' in sources:
        m, d, sp = sklearn_bases(); bases.append(m); bdig.append(d); bsrc += ['sklearn'] * len(d); bsplit.append(sp)
    if 'fonts' in sources:
        m, d, names, sp = font_bases(); bases.append(m); bdig.append(d); bsrc += list('font:' + names); bsplit.append(sp)
    nsk = len(bdig[0]) if 'sklearn' in sources else 0
    bases = torch.as_tensor(np.concatenate(bases))[:, None]
    bdig, bsrc, bsplit = np.concatenate(bdig), np.array(bsrc), np.concatenate(bsplit)
    kind = np.array([s.split(':')[0] for s in bsrc])
    # skeletons (pen mode): every font glyph; scans only of sk_pen_digits (a scan's loops are often filled blobs,
    # whose skeletons lose the loop)
    skel = torch.zeros_like(bases)
    if 'fonts' in sources: skel[nsk:, 0] = torch.as_tensor(skeleton_bases('fonts'))
    if nsk: skel[:nsk, 0] = torch.as_tensor(skeleton_bases('sklearn'))
    can_pen = (kind == 'font') | np.isin(bdig, aug['sk_pen_digits'])
    pruned = skel.clone()
    if aug['p_prune'] > 0:
        if 'fonts' in sources: pruned[nsk:, 0] = torch.as_tensor(skeleton_bases('fonts', aug['prune_px']))
        if nsk: pruned[:nsk, 0] = torch.as_tensor(skeleton_bases('sklearn', aug['prune_px']))
        pruned[bdig == 4] = skel[bdig == 4]
    rng = np.random.default_rng(seed)
    # choose the base of every sample: per digit, sources in equal shares, bases uniformly within a source
    pick = []
    kinds = [k for k in ('sklearn', 'font') if (kind == k).any()]
    for dg in range(10):
        for j, k in enumerate(kinds):
            ok = np.flatnonzero((bdig == dg) & (kind == k) & ((bsplit == split) if split else True))
            cnt = n_per_digit // len(kinds) + (j < n_per_digit % len(kinds))
            pick.append(rng.choice(ok, cnt, replace=True))
    pick = rng.permutation(np.concatenate(pick))
    g = torch.Generator().manual_seed(seed)
    is_font = torch.as_tensor(kind[pick] == 'font')
    pen = torch.as_tensor(can_pen[pick]) & (torch.rand(len(pick), generator=g) < aug['p_pen'])
    prn = torch.rand(len(pick), generator=g) < aug['p_prune']
    out = []
    for i in range(0, len(pick), chunk):
        p, fo, pn = pick[i:i + chunk], is_font[i:i + chunk], pen[i:i + chunk]
        sk = torch.where(prn[i:i + chunk].view(-1, 1, 1, 1), pruned[p], skel[p])
        src = torch.where(pn.view(-1, 1, 1, 1), sk, bases[p])
        x = warp(src, g, aug)
        lo, hi = aug['thr']
        thr = lo + (hi - lo) * torch.rand(len(p), generator=g) + aug['font_thr_shift'] * fo
        lo, hi = aug['pen']
        f = lo + (hi - lo) * torch.rand(len(p), generator=g)
        if (~pn).any(): x[~pn] = restroke(x[~pn], thr[~pn], aug['blur'])
        if pn.any(): x[pn] = pen_stroke(x[pn], f[pn], aug['pen_sigma'])
        y = mnist_normalise(x, size)
        fb = aug['final_blur']
        if fb[1] > 0:                        # a slightly softer or sharper scan: mix with a blurred copy
            t = (fb[0] + (fb[1] - fb[0]) * torch.rand(len(p), 1, 1, 1, generator=g))
            y = (1 - t) * y + t * blur(y, 0.7)
        out.append(y[:, 0])
    masks = torch.cat(out).clamp(0, 1).numpy().astype(np.float32)
    return masks, bdig[pick].astype(int), bsrc[pick], bsplit[pick]
