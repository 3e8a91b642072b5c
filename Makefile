# mmseg_weak — `make demo` and `make test` work on a fresh machine.
#   MMCV_WHEEL_DIR=/path/to/wheels make test   # use a prebuilt mmcv wheel
# Without MMCV_WHEEL_DIR, mmcv 2.1.0 is compiled from source (~20 min).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NPROC ?= 2
DEMO_SETS ?= baselines
export MMCV_WHEEL_DIR

.PHONY: install demo lint test clean-demo

$(VENV)/.installed: setup.py tools/install.sh requirements/runtime.txt requirements/tests.txt requirements/optional.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	PYTHON=$(PY) bash tools/install.sh
	touch $@

install: $(VENV)/.installed

demo: install
	PYTHON=$(PY) NPROC=$(NPROC) bash tools/demo.sh $(DEMO_SETS)

lint: install
	$(PY) -m flake8 mmseg_weak tools tests
	$(PY) -m isort --check-only --diff mmseg_weak tools tests

test: install
	$(PY) -m pytest tests

clean-demo:
	rm -rf work_dirs/demo data/synthetic_voc
