# Commands for a fresh machine (see README.md):
#   make demo   set up .venv and train a DCGAN on MNIST, ending in runs/dcgan-mnist/training.gif
#   make test   set up .venv and run the whole test suite (unit tests + every notebook under nbval)
#   make course execute every notebook in full mode into docs/course/ (copies with outputs, to read on the web)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline data: GANLIB_DATA_DIR (a folder with mnist/ and fashion_mnist/ IDX files) when set; else tfds downloads.
GANLIB_DATA_DIR ?=
export GANLIB_DATA_DIR
DEMO_ARGS ?=
COURSE_ARGS ?=

.PHONY: setup demo test course lint clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/python -m ganlib train --out runs/dcgan-mnist --epochs 10 $(DEMO_ARGS)

# The notebooks run under nbval in quick mode (GANLIB_QUICK=1: small data, short training, every cell executed),
# in a kernel on this venv's interpreter (--nbval-current-env). Two pytest workers (pytest-xdist) share the two cores;
# --dist loadfile keeps each test file, and so each notebook's cells, in one worker and in order. Their kernels start in notebooks/, so the data
# directory is made absolute and PYTHONPATH points at this checkout's ganlib.
test: setup
	$(BIN)/nbstripout --verify notebooks/*.ipynb
	GANLIB_QUICK=1 GANLIB_DATA_DIR="$(if $(GANLIB_DATA_DIR),$(abspath $(GANLIB_DATA_DIR)),)" PYTHONPATH="$(CURDIR)" \
		$(BIN)/python -m pytest tests notebooks -n 2 --dist loadfile --nbval-lax --nbval-current-env --durations=25

# Every notebooks/NN_*.ipynb executed in full mode (GANLIB_QUICK unset), one after the other, in a kernel on this
# venv's interpreter started in notebooks/ (full-mode runs go to notebooks/runs/); the copies with their outputs and
# a header (date, machine, wall time, source commit) go to docs/course/, with the index docs/course/README.md.
# notebooks/ itself is not written. A subset: make course COURSE_ARGS="--only 01 03".
course: setup
	GANLIB_DATA_DIR="$(if $(GANLIB_DATA_DIR),$(abspath $(GANLIB_DATA_DIR)),)" PYTHONPATH="$(CURDIR)" \
		$(BIN)/python scripts/render_course.py $(COURSE_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
