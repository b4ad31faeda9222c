"""Under pytest-xdist (`-n 2` in pyproject.toml's addopts) two test files run at a time. Each worker gets its share of
the cores: torch's threads, and OMP_NUM_THREADS for the commands its tests start. Two workers at a thread per core each
would oversubscribe the cores, and torch slows down far more than twofold then (README: one job at a time)."""
import os

_workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
if _workers > 1 and 'OMP_NUM_THREADS' not in os.environ:
    os.environ['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // _workers))
