"""The CLIP filter's label prompt (issue 21, departure 1): does scoring against the *class* prompt (the paper: "a photo of a
digit between five and nine") or the *group* prompt (attribute words included: "... on a green background") keep more
images of the intended group?  Re-scores a run's generated images under both, for alpha 0, 0.5 and 1, and reads the kept
ones with the reader trained on real Colored MNIST (`reader.py`). Random selection (the paper's other baseline) too.
Nothing is written into the run.

    python benchmarks/filter_label.py --run runs/demo [--generator clustered] [--clip FOLDER] [--keep-frac 0.75] [--json OUT]
"""
import argparse, json, sys
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from reader import read
from fairsynth_nb.core import load_config
from fairsynth_nb.data import dataset_from_config, group_prompt, label_prompt
from fairsynth_nb.models import load_clip
from fairsynth_nb.minisd import DIGIT_WORDS
from fairsynth_nb.cluster import clip_image_embeddings, clip_text_embeddings
from fairsynth_nb.generate import score_embeddings, filter_group


def main():
    p = argparse.ArgumentParser(); p.add_argument('--run', required=True); p.add_argument('--generator', default='clustered')
    p.add_argument('--clip', default=None); p.add_argument('--keep-frac', type=float, default=0.75); p.add_argument('--json')
    a = p.parse_args()
    run = Path(a.run); cfg = load_config(run); df = dataset_from_config(cfg)
    man = run/'synthetic'/a.generator/'manifest.csv'
    m = pd.read_csv(man, keep_default_na=False)
    ims = [np.asarray(Image.open(man.parent/f).convert('RGB')) for f in m.file]
    _, ry, ra = read(ims)
    m['ok'] = (ry == m.y) & (ra == m.a)
    clip, proc = load_clip(a.clip or cfg.clip_model, device='cpu')
    e = clip_image_embeddings(ims, clip, proc)
    tr = df[df.split == 'train']
    rows, rng = [], np.random.default_rng(0)
    def add(label, alpha, kept):
        k = m[kept]
        rows.append(dict(label=label, alpha=alpha, kept=int(kept.sum()), intended_group=round(k.ok.mean(), 3),
                         worst_group=round(k.groupby('group').ok.mean().min(), 3)))
    add('none (all generated)', None, np.ones(len(m), bool))
    kept = np.zeros(len(m), bool)
    for g, idx in m.groupby('group').indices.items(): kept[rng.permutation(idx)[:int(len(idx) * a.keep_frac)]] = True
    add('random', None, kept)
    def text_of(label, y, at):
        if label == 'class': return clip_text_embeddings([label_prompt(df, y)], clip, proc)[0]
        if label == 'group': return clip_text_embeddings([group_prompt(df, y, at)], clip, proc)[0]
        # 'members': the class named by its members, one prompt per digit, their embeddings averaged (CLIP's prompt ensembling)
        t = clip_text_embeddings([f"a photo of the digit {DIGIT_WORDS[d]}" for d in range(5 * y, 5 * y + 5)], clip, proc).mean(0)
        return t / np.linalg.norm(t)
    for label in ('class', 'group', 'members'):
        for alpha in (0.0, 0.5, 1.0):
            if label != 'class' and alpha == 0.0: continue      # alpha 0: the centroid alone, the same for every label
            kept = np.zeros(len(m), bool)
            for g, idx in m.groupby('group').indices.items():
                y, at = int(m.y.iloc[idx[0]]), int(m.a.iloc[idx[0]])
                text = text_of(label, y, at)
                cen = clip_image_embeddings(list(tr[tr.group == g].image), clip, proc).mean(0)
                kept[idx] = filter_group(score_embeddings(e[idx], text, cen, alpha), len(idx), a.keep_frac)
            add(label, alpha, kept)
    # 'zeroshot': CLIP's zero-shot probability of the class, the softmax over the ten digit prompts summed over the class's digits
    t10 = clip_text_embeddings([f"a photo of the digit {w}" for w in DIGIT_WORDS], clip, proc)
    z = 100 * e @ t10.T; pz = np.exp(z - z.max(1, keepdims=True)); pz /= pz.sum(1, keepdims=True)
    p_class = np.where(m.y.values == 1, pz[:, 5:].sum(1), pz[:, :5].sum(1))
    kept = np.zeros(len(m), bool)
    for g, idx in m.groupby('group').indices.items(): kept[idx] = filter_group(p_class[idx], len(idx), a.keep_frac)
    add('zeroshot', 1.0, kept)
    t = pd.DataFrame(rows)
    print(f"{a.generator} images of {run} ({len(m)}), clip={a.clip or cfg.clip_model or 'shipped mini-CLIP'}, keep {a.keep_frac:.0%} per group")
    print(t.to_string(index=False))
    if a.json: Path(a.json).write_text(json.dumps(dict(run=str(run), generator=a.generator, clip=a.clip, rows=rows), indent=1))


if __name__ == '__main__': main()
