"""Does mini-SD draw what it is asked? For every (digit, background colour) of the corpus vocabulary, generate images
and let a small CNN trained on the corpus (train split) read them: digit accuracy and background-colour accuracy.

    python benchmarks/minisd_quality.py [--model DIR] [--n 8] [--steps 25] [--guidance 4 | --guidance 2.5,4,6] [--grid out.png]
"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch
from fairsynth_nb.minisd import digits_corpus, train_reader, read_images, DIGIT_WORDS, PALETTE, _unit_pixels
from fairsynth_nb.models import load_pipeline, generate, DEFAULT_GUIDANCE

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=None); ap.add_argument('--n', type=int, default=8)
    ap.add_argument('--steps', type=int, default=25); ap.add_argument('--guidance', default=str(DEFAULT_GUIDANCE), help='a scale, or several separated by commas')
    ap.add_argument('--threads', type=int, default=int(os.environ.get('FAIRSYNTH_THREADS', 2)))
    ap.add_argument('--template', default="a photo of the digit {d} on a {bg} background")
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    corpus = digits_corpus()
    t = time.time(); reader = train_reader(corpus); t_reader = time.time() - t
    test = corpus[corpus.split == 'test']
    rt = read_images(reader, np.stack(test.image.values))
    print(f"reader on the corpus test split ({len(test)} images, unseen handwriting): digit {np.mean(rt.digit.values == test.digit.values):.1%}, "
          f"background colour {np.mean(rt.bg.values == test.bg.values):.1%}  (trained in {t_reader:.0f} s)")
    try:
        from fairsynth_nb.data import colored_mnist
        cm = colored_mnist(severity=0.99, seed=0); cm = cm[cm.split == 'test']
        rc = read_images(reader, np.stack(cm.image.values))
        print(f"reader on the Colored MNIST test split ({len(cm)} images, the domain gap): digit {np.mean(rc.digit.values == cm.digit.values):.1%}, "
              f"background colour {np.mean(rc.bg.values == cm.colour.values):.1%}")
    except ImportError: pass
    pipe = load_pipeline(a.model, device='cpu')
    keys = [(d, bg) for d in range(10) for bg in PALETTE]
    prompts = [a.template.format(d=DIGIT_WORDS[d], bg=bg) for d, bg in keys]
    for g in [float(v) for v in str(a.guidance).split(',')]:
        t = time.time(); ims = generate(pipe, prompts, n=a.n, steps=a.steps, guidance_scale=g, seed=a.seed); t_gen = time.time() - t
        r = read_images(reader, ims)
        want_d = np.repeat([k[0] for k in keys], a.n); want_c = np.repeat([k[1] for k in keys], a.n)
        dig, col = r.digit.values == want_d, r.bg.values == want_c
        print(f"prompts: {len(prompts)} ('{a.template}'), {a.n} images each, {a.steps} steps, guidance {g}, seed {a.seed}; generated in {t_gen:.0f} s")
        print(f"digit accuracy: {dig.mean():.1%}")
        print(f"background-colour accuracy: {col.mean():.1%}")
        per_d = {DIGIT_WORDS[d]: f"{dig[want_d == d].mean():.0%}" for d in range(10)}
        per_c = {c: f"{col[want_c == c].mean():.0%}" for c in PALETTE}
        print("digit accuracy per digit:", per_d); print("colour accuracy per colour:", per_c)
        rg = np.isin(want_c, ['red', 'green'])
        print(f"red/green backgrounds only: digit {dig[rg].mean():.1%}, colour {col[rg].mean():.1%}")

if __name__ == '__main__': main()
