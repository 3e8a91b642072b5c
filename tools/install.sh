#!/usr/bin/env bash
# Install mmseg_weak and its pinned OpenMMLab stack into the current Python environment.
#
#   bash tools/install.sh                       # mmcv built from the PyPI sdist (~20 min on 2 cores)
#   MMCV_WHEEL_DIR=../shared/wheels bash tools/install.sh   # mmcv (and pydensecrf2) from a wheel directory
#
# Variables:
#   PYTHON          interpreter to install into (default: python3)
#   MMCV_WHEEL_DIR  folder holding an mmcv-2.1.0 wheel built against torch 2.13.0; used when set and the
#                   wheel is there, otherwise mmcv is compiled from source with MMCV_WITH_OPS=1.
#   WITH_CRF=0      skip the optional pydensecrf2 backend.
set -euo pipefail
PY=${PYTHON:-python3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }

# 1. build tooling; setuptools stays <81 at run time too (mmengine needs pkg_resources)
pip_install "setuptools>=77.0.3,<81" wheel
# 2. torch first, so nothing later resolves another (CUDA) torch. Never torchvision.
pip_install "torch==2.13.0"
# 3. mmcv with compiled ops
if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
    echo "[install] mmcv 2.1.0 with ops already present"
elif [ -n "${MMCV_WHEEL_DIR:-}" ] && ls "$MMCV_WHEEL_DIR"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    echo "[install] mmcv from wheel directory $MMCV_WHEEL_DIR"
    pip_install --no-index --no-deps --find-links "$MMCV_WHEEL_DIR" "mmcv==2.1.0"
else
    echo "[install] building mmcv 2.1.0 from source (MMCV_WITH_OPS=1); this takes ~20 minutes on 2 cores"
    pip_install psutil opencv-python "numpy>=2,<3"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} pip_install --no-build-isolation --no-binary mmcv "mmcv==2.1.0"
fi
# 4. the rest of the stack, pinned; then this package in editable mode
pip_install -r "$ROOT/requirements/runtime.txt" "torch==2.13.0" "mmcv==2.1.0"
pip_install -r "$ROOT/requirements/tests.txt"
if [ "${WITH_CRF:-1}" != 0 ]; then
    if [ -n "${MMCV_WHEEL_DIR:-}" ] && ls "$MMCV_WHEEL_DIR"/pydensecrf2-*.whl >/dev/null 2>&1; then
        pip_install --find-links "$MMCV_WHEEL_DIR" -r "$ROOT/requirements/optional.txt" \
            || echo "[install] optional pydensecrf2 not installed (the pure-PyTorch CRF is used)"
    else
        pip_install -r "$ROOT/requirements/optional.txt" \
            || echo "[install] optional pydensecrf2 not installed (the pure-PyTorch CRF is used)"
    fi
fi
pip_install --no-build-isolation --no-deps -e "$ROOT"
"$PY" -c "import torch, mmcv, mmcv.ops, mmengine, mmseg, mmdet, mmseg_weak; \
print('[install] torch', torch.__version__, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__, \
'mmseg', mmseg.__version__, 'mmdet', mmdet.__version__, 'mmseg_weak', mmseg_weak.__version__)"
