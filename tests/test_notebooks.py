"Every chapter ends with the real-scale switch: its cell is exercised with REAL = True against recording stand-ins for the heavy calls."
import json, re
from pathlib import Path

import pytest

from fairsynth_nb.pipeline import real_config, STAGES

NBS = Path(__file__).parent.parent/'nbs'
CHAPTERS = sorted(p for p in NBS.glob('[01][0-9]_*.ipynb') if p.stem not in ('00_core', '09_pipeline', '11_results'))  # 09 holds real_config itself


def switch_cell(nb: Path) -> str:
    cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    found = [s for s in cells if s.startswith('REAL = False')]
    assert len(found) == 1, f"{nb.name}: expected one real-scale switch cell, found {len(found)}"
    return found[0]


@pytest.mark.parametrize('nb', CHAPTERS, ids=lambda p: p.stem)
def test_real_scale_switch(nb):
    calls = []
    def run_pipeline(out, cfg, generators=None, overwrite=False, until=None):
        assert until is None or until in STAGES, until
        assert cfg.model and cfg.clip_model and cfg.data.dataset == 'celeba'
        calls.append(('run_pipeline', until)); return {}
    def rec(name, ret=None):
        def f(*a, **k): calls.append((name, None)); return ret
        return f
    class Frame:                                  # what dataset_from_config returns, enough for the cell
        def groupby(self, *a, **k): return self
        def size(self): return self
        def unstack(self, *a): return self
    ns = dict(Path=Path, real_config=real_config, run_pipeline=run_pipeline, display=rec('display'),
              dataset_from_config=rec('dataset_from_config', Frame()), load_pipeline=rec('load_pipeline'),
              generate=rec('generate'), image_grid=rec('image_grid'), results_table=rec('results_table', ''),
              REAL_MODEL='x')
    src = switch_cell(nb)
    exec(compile(src, nb.name, 'exec'), dict(ns))                 # REAL = False: nothing happens
    assert calls == []
    exec(compile(src.replace('REAL = False', 'REAL = True', 1), nb.name, 'exec'), dict(ns))
    assert calls, f"{nb.name}: the switch ran nothing"
    # the names the cell uses are imported or defined in the notebook itself
    text = nb.read_text()
    for name in set(re.findall(r'(?<![.\w])([a-z_]+)\(', src)) - {'print', 'display'}:
        assert f'def {name}(' in text or re.search(rf'import [^\n]*\b{name}\b', text), f"{nb.name}: {name} is not defined there"
