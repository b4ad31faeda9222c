"""mini-CLIP zero-shot on the Colored MNIST test split: background colour (red / green) and digit (0-9).

    python benchmarks/minisd_clip_zeroshot.py [--model DIR] [--json PATH]
"""
import argparse, json, os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch
from fairsynth_nb.minisd import DIGIT_WORDS, digits_corpus
from fairsynth_nb.models import load_clip
from fairsynth_nb.cluster import clip_zero_shot

COLOURS = ['red', 'green']
DIGIT_PROMPTS = [[f"a photo of the digit {w} in white on a {c} background" for c in COLOURS] for w in DIGIT_WORDS]


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--model', default=None); ap.add_argument('--json', default=None)
    ap.add_argument('--threads', type=int, default=int(os.environ.get('FAIRSYNTH_THREADS', 2)))
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    from fairsynth_nb.data import colored_mnist
    test = colored_mnist(severity=0.99, seed=0); test = test[test.split == 'test']
    model, proc = load_clip(a.model)
    col = np.array(COLOURS)[clip_zero_shot(list(test.image), model, proc, [[f"a photo of a digit on a {c} background"] for c in COLOURS])]
    dig = clip_zero_shot(list(test.image), model, proc, DIGIT_PROMPTS)
    res = dict(n=len(test), colour=float(np.mean(col == test.colour.values)), digit=float(np.mean(dig == test.digit.values)),
               y=float(np.mean((dig >= 5) == test.y.values)),
               per_digit={int(d): float(np.mean(dig[test.digit.values == d] == d)) for d in range(10)})
    c = digits_corpus(); c = c[(c.split == 'test') & (c.fg == 'white') & c.bg.isin(COLOURS)]
    res['in_domain_digit'] = float(np.mean(clip_zero_shot(list(c.image), model, proc, DIGIT_PROMPTS) == c.digit.values))
    print(f"Colored MNIST test split: {res['n']} images")
    print(f"colour zero-shot accuracy: {res['colour']:.1%}  (prompts 'a photo of a digit on a <colour> background')")
    print(f"digit zero-shot accuracy: {res['digit']:.1%}  (10 classes, chance 10%; prompts 'a photo of the digit <word> in white "
          f"on a <red|green> background', averaged); per digit: " + ' '.join(f"{d}:{v:.2f}" for d, v in res['per_digit'].items()))
    print(f"target y = digit >= 5 from the zero-shot digit: {res['y']:.1%}")
    print(f"reference, in-domain: digit zero-shot accuracy on the corpus test split (white on red/green, {len(c)} images): {res['in_domain_digit']:.1%}")
    if a.json: open(a.json, 'w').write(json.dumps(res, indent=1))

if __name__ == '__main__': main()
