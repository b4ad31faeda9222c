#!/usr/bin/env bash
# The GPU check: every chapter, every test (the CLI tests included) and the demo on a CUDA GPU, as a Colab user runs
# them. Run it in every session whose task is lent a GPU (the device tool's `status` says so), in two steps:
#
#   here, where pip reaches the registry:   bash tools/gpu_check.sh prepare
#       -> .whl/: wheels (Python 3.12, x86-64) of what the device lacks: diffusers, fastai, nbdev, ... (git ignores .whl/)
#   there, in one device call:              run(command="bash tools/gpu_check.sh run", carry=[".whl"], timeout_s=540)
#       -> $OUT/gpu_check.json and logs; the call returns them: copy the JSON to benchmarks/results/gpu_check_<date>.json
#
# `run` installs the wheels and the package, then runs three jobs side by side (the machine has 16 cores and one GPU):
# `fairsynth demo`, `nbdev-test` one chapter at a time (6 in parallel), and `pytest -n 4`. It writes pass/fail for each
# chapter and each test, the demo's stage times and metrics, and the versions. It needs about 6 minutes on an H200.
# `run` also works on a CPU machine (FAIRSYNTH_GPU_CHECK_ALLOW_CPU=1), to try the script itself: it then says so in the JSON.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

# What the device image lacks (device README: KINDS.md's package list), with what those need that it lacks too.
# spacy and its own needs are left out: fastai imports it only for fastai.text, which the package does not use.
# fastprogress imports fasthtml, which imports starlette and itsdangerous (nothing else of its needs at import time).
CARRY="diffusers fastai fastcore fastprogress fasttransform fastdownload plum-dispatch beartype mlxtend
pytorch-metric-learning nbdev execnb ipython fairlearn astunparse ghapi fastgit watchdog asttokens executing pure-eval
stack-data decorator jedi parso matplotlib-inline pexpect ptyprocess prompt-toolkit wcwidth traitlets
ipython-pygments-lexers comm ipywidgets widgetsnbextension jupyterlab-widgets python-fasthtml starlette itsdangerous"

prepare() {
    rm -rf .whl && mkdir -p .whl
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    local py=${PYTHON:-python3} pins=() name ver
    # the versions this machine's venv resolved for the package (so the device runs what CI runs), else the newest
    for name in $CARRY; do
        ver=$($py -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
        pins+=("${name}${ver:+==$ver}")
    done
    for spec in "${pins[@]}"; do
        $py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
            --platform any -d .whl "$spec" 2>/dev/null || echo "prepare: no wheel for $spec (left out)" >&2
    done
    du -sh .whl; ls .whl | wc -l
}

run() {
    local out=${OUT:-/tmp/gpu_check_out}; mkdir -p "$out"
    local t0; t0=$(date +%s)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "gpu_check: installing the wheels failed" >&2; exit 1; }
    export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
    python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
        || echo "gpu_check: editable install failed; running from PYTHONPATH" >&2
    local py bin; py=$(python3 -c 'import sys; print(sys.executable)'); bin=$(dirname "$py")
    if [ ! -x "$bin/fairsynth" ]; then        # the tests start `fairsynth` from beside the interpreter (torchrun too)
        printf '#!%s\nimport sys\nfrom fairsynth_nb.cli import main\nsys.exit(main())\n' "$py" > "$bin/fairsynth"
        chmod +x "$bin/fairsynth"
    fi
    python3 - <<'EOF' || { [ "${FAIRSYNTH_GPU_CHECK_ALLOW_CPU:-0}" = 1 ] || exit 1; }
import torch, sys
print('cuda:', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
sys.exit(0 if torch.cuda.is_available() else 1)
EOF
    # 1. the demo, as the README says (its own folder)
    ( s=$(date +%s); python3 -c 'import sys; from fairsynth_nb.cli import main; sys.exit(main(["demo", "--out", "/tmp/gc_demo"]))' \
        > "$out/demo.log" 2>&1; echo "$? $(( $(date +%s) - s ))" > "$out/demo.rc" ) &
    # 2. every chapter on its own, 6 at a time
    ( ls nbs/[0-9][0-9]*.ipynb nbs/index.ipynb | xargs -P 6 -I{} sh -c \
        's=$(date +%s); nbdev-test --flags cuda "{}" > "$0/nb_$(basename {} .ipynb).log" 2>&1; echo "$(basename {} .ipynb) $? $(( $(date +%s) - s ))" >> "$0/chapters.txt"' "$out" ) &
    # 3. pytest, the CLI tests included, 4 workers
    ( s=$(date +%s); python3 -m pytest -q -n 4 -p no:cacheprovider --junitxml="$out/pytest.xml" > "$out/pytest.log" 2>&1; \
        echo "$? $(( $(date +%s) - s ))" > "$out/pytest.rc" ) &
    wait
    python3 tools/gpu_check_report.py "$out" "$(( $(date +%s) - t0 ))"
}

case "$mode" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: bash tools/gpu_check.sh prepare|run" >&2; exit 2 ;;
esac
