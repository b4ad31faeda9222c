"""MNIST-like stroke masks without MNIST: now the package's module `fairsynth_nb.corpus` (chapter 02a_corpus); this file
re-exports it for the benchmark scripts that import `stroke_corpus`.

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
from fairsynth_nb.corpus import *                       # noqa: F401,F403
from fairsynth_nb.corpus import _all_bases, _pick, _render   # noqa: F401
