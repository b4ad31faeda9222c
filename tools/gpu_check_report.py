"""Collect what `tools/gpu_check.sh run` left in its output folder into one JSON: versions, the machine, pass or fail for
each chapter and each test, the demo's stage times and metrics. Prints a summary; exits 1 if anything failed.

    python tools/gpu_check_report.py OUT_DIR WALL_SECONDS
"""
import datetime, json, platform, sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

PACKAGES = ('torch', 'diffusers', 'transformers', 'peft', 'accelerate', 'fastai', 'fastcore', 'numpy', 'scipy', 'pandas',
            'scikit-learn', 'nbdev', 'safetensors')


def versions() -> dict:
    v = {'python': platform.python_version()}
    for p in PACKAGES:
        try: v[p] = metadata.version(p)
        except metadata.PackageNotFoundError: v[p] = None
    return v


def machine() -> dict:
    import torch
    m = dict(cuda=torch.cuda.is_available(), torch_cuda=torch.version.cuda)
    if m['cuda']: m.update(gpu=torch.cuda.get_device_name(0), gpu_memory_gib=round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1))
    return m


def chapters(out: Path) -> dict:
    f = out/'chapters.txt'
    rows = [l.split() for l in f.read_text().splitlines() if l.strip()] if f.exists() else []
    return {name: dict(passed=rc == '0', seconds=int(s)) for name, rc, s in sorted(rows)}


def tests(out: Path) -> dict:
    f = out/'pytest.xml'
    if not f.exists(): return {}
    res = {}
    for case in ET.parse(f).getroot().iter('testcase'):
        name = f"{case.get('classname')}::{case.get('name')}"
        kids = {c.tag for c in case}
        res[name] = 'failed' if kids & {'failure', 'error'} else 'skipped' if 'skipped' in kids else 'passed'
    return res


def demo(out: Path) -> dict:
    rc_f = out/'demo.rc'
    d = {}
    if rc_f.exists():
        rc, s = rc_f.read_text().split(); d.update(passed=rc == '0', seconds=int(s))
    run = Path('/tmp/gc_demo')
    for name, key in (('stage_times.json', 'stage_seconds'), ('metrics.json', 'metrics')):
        if (run/name).exists(): d[key] = json.loads((run/name).read_text())
    if 'metrics' in d:
        d['metrics'] = {m: {k: v[k] for k in ('worst_group_acc', 'mean_group_acc', 'avg_acc') if k in v} for m, v in d['metrics'].items()}
    return d


def main():
    out, wall = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None
    rep = dict(date=datetime.date.today().isoformat(), wall_seconds=wall, machine=machine(), versions=versions(),
               chapters=chapters(out), tests=tests(out), demo=demo(out))
    t = list(rep['tests'].values())
    rep['summary'] = dict(chapters_passed=sum(c['passed'] for c in rep['chapters'].values()), chapters=len(rep['chapters']),
                          tests_passed=t.count('passed'), tests_failed=t.count('failed'), tests_skipped=t.count('skipped'),
                          demo_passed=rep['demo'].get('passed'))
    (out/'gpu_check.json').write_text(json.dumps(rep, indent=1))
    s = rep['summary']
    print(f"gpu_check on {rep['machine'].get('gpu', 'CPU')}: chapters {s['chapters_passed']}/{s['chapters']}, "
          f"tests {s['tests_passed']} passed / {s['tests_failed']} failed / {s['tests_skipped']} skipped, demo "
          f"{'passed' if s['demo_passed'] else 'FAILED'} ({rep['demo'].get('seconds')} s); wall {wall} s")
    for name, c in rep['chapters'].items():
        if not c['passed']: print(f"  chapter {name} FAILED: see nb_{name}.log")
    for name, r in rep['tests'].items():
        if r == 'failed': print(f"  test {name} FAILED")
    ok = s['chapters_passed'] == s['chapters'] and s['chapters'] > 0 and not s['tests_failed'] and s['tests_passed'] > 0 and s['demo_passed']
    sys.exit(0 if ok else 1)


if __name__ == '__main__': main()
