"""mini-CLIP zero-shot on the Colored MNIST test split: background colour (red / green) and digit (0-9).

    python benchmarks/minisd_clip_zeroshot.py [--model DIR]
"""
import argparse, os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch, torch.nn.functional as F
from fairsynth_nb.minisd import load_clip, DIGIT_WORDS, digits_corpus

def text_emb(model, proc, prompts):
    enc = proc.tokenizer(prompts, padding=True, truncation=True, return_tensors='pt')
    e = model.get_text_features(**enc)
    return F.normalize(getattr(e, 'pooler_output', e), dim=-1)

@torch.no_grad()
def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--model', default=None)
    ap.add_argument('--threads', type=int, default=int(os.environ.get('FAIRSYNTH_THREADS', 2)))
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    from fairsynth_nb.data import colored_mnist
    df = colored_mnist(severity=0.99, seed=0)
    test = df[df.split == 'test']
    model, proc = load_clip(a.model, device='cpu')
    px = proc(images=list(test.image.values), return_tensors='pt').pixel_values
    ie = model.get_image_features(pixel_values=px)
    ie = F.normalize(getattr(ie, 'pooler_output', ie), dim=-1)
    colours = ['red', 'green']
    te = text_emb(model, proc, [f"a photo of a digit on a {c} background" for c in colours])
    pc = np.array(colours)[(ie @ te.t()).argmax(1).numpy()]
    print(f"Colored MNIST test split: {len(test)} images")
    print(f"colour zero-shot accuracy: {np.mean(pc == test.colour.values):.1%}  (prompts 'a photo of a digit on a <colour> background')")
    # digit: prompt ensemble over the two backgrounds (the colour is not what is asked)
    te = torch.stack([F.normalize(text_emb(model, proc, [f"a photo of the digit {w} in white on a {c} background" for c in colours]).mean(0), dim=-1)
                      for w in DIGIT_WORDS])
    pd_ = (ie @ te.t()).argmax(1).numpy()
    print(f"digit zero-shot accuracy: {np.mean(pd_ == test.digit.values):.1%}  (10 classes, chance 10%; prompts "
          f"'a photo of the digit <word> in white on a <red|green> background', averaged)")
    y = (pd_ >= 5).astype(int)
    print(f"target y = digit >= 5 from the zero-shot digit: {np.mean(y == test.y.values):.1%}")
    # for reference: the same digit prompts on mini-CLIP's own domain (corpus test split, white digits on red/green)
    c = digits_corpus(); c = c[(c.split == 'test') & (c.fg == 'white') & c.bg.isin(colours)]
    ie = model.get_image_features(pixel_values=proc(images=list(c.image.values), return_tensors='pt').pixel_values)
    ie = F.normalize(getattr(ie, 'pooler_output', ie), dim=-1)
    print(f"reference, in-domain: digit zero-shot accuracy on the corpus test split (white on red/green, {len(c)} images): "
          f"{np.mean((ie @ te.t()).argmax(1).numpy() == c.digit.values):.1%}")

if __name__ == '__main__': main()
