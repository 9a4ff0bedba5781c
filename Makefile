# Commands for a fresh machine (see README.md):
#   make demo   set up .venv (runtime only) and train a DCGAN on MNIST, ending in runs/dcgan-mnist/training.gif
#   make setup  set up .venv with the development and notebook tools too (Jupyter, pytest, nbval)
#   make lab    set up .venv as make setup does and open the course's first notebook in Jupyter
#   make test   set up .venv and run the whole test suite (unit tests + every notebook under nbval)
#   make course execute every notebook in full mode into docs/course/ (copies with outputs, to read on the web)
#   make docs   build the documentation site (mkdocs.yml: docs/ pages, the executed course, the API reference) into site/
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Offline data: GANLIB_DATA_DIR (a folder with mnist/ and fashion_mnist/ IDX files) when set; else tfds downloads.
GANLIB_DATA_DIR ?=
export GANLIB_DATA_DIR
DEMO_ARGS ?=
COURSE_ARGS ?=

.PHONY: setup demo lab test course docs lint clean

# Two installs into one venv: the runtime (requirements.txt, for make demo) and, on top of it, the development and
# notebook tools (requirements-dev.txt: Jupyter, pytest, nbval; for make setup, test, course).
$(VENV)/.runtime: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

demo: $(VENV)/.runtime
	$(BIN)/python -m ganlib train --out runs/dcgan-mnist --epochs 10 $(DEMO_ARGS)

# Jupyter on this venv (ganlib importable in its kernel), opened at the course's first notebook.
lab: setup
	GANLIB_DATA_DIR="$(if $(GANLIB_DATA_DIR),$(abspath $(GANLIB_DATA_DIR)),)" $(BIN)/jupyter lab notebooks/01_minimax_objective.ipynb

# The notebooks run under nbval in quick mode (GANLIB_QUICK=1: small data, short training, every cell executed),
# in a kernel on this venv's interpreter (--nbval-current-env). Two pytest workers (pytest-xdist) share the two cores;
# --dist loadfile keeps each test file, and so each notebook's cells, in one worker and in order; the notebooks come
# first, so that the long files start first and the short unit-test files fill the end on whichever worker is free.
# Their kernels start in notebooks/, so the data
# directory is made absolute and PYTHONPATH points at this checkout's ganlib.
test: setup
	$(BIN)/nbstripout --verify notebooks/*.ipynb
	GANLIB_QUICK=1 GANLIB_DATA_DIR="$(if $(GANLIB_DATA_DIR),$(abspath $(GANLIB_DATA_DIR)),)" PYTHONPATH="$(CURDIR)" \
		$(BIN)/python -m pytest notebooks tests -n 2 --dist loadfile --nbval-lax --nbval-current-env --durations=25

# Every notebooks/NN_*.ipynb executed in full mode (GANLIB_QUICK unset), one after the other, in a kernel on this
# venv's interpreter started in notebooks/ (full-mode runs go to notebooks/runs/); the copies with their outputs and
# a header (date, machine, wall time, source commit) go to docs/course/, with the index docs/course/README.md.
# notebooks/ itself is not written. A subset: make course COURSE_ARGS="--only 01 03".
course: setup
	GANLIB_DATA_DIR="$(if $(GANLIB_DATA_DIR),$(abspath $(GANLIB_DATA_DIR)),)" PYTHONPATH="$(CURDIR)" \
		$(BIN)/python scripts/render_course.py $(COURSE_ARGS)

# The documentation site: docs/ as MkDocs pages (theme Material), the executed notebooks of docs/course/ rendered from
# their stored outputs (mkdocs-jupyter, nothing executed), the API reference from the docstrings (mkdocstrings, sources
# read without importing TensorFlow). --strict turns every warning (a broken link or anchor, a page not in the nav) into
# an error. Publishing is not automated here (it needs the network): `$(BIN)/mkdocs gh-deploy` builds the site and
# pushes it to the gh-pages branch that GitHub Pages serves, or a CI workflow runs `make docs` and publishes site/
# (actions/upload-pages-artifact, then actions/deploy-pages).
docs: setup
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) runs .pytest_cache site .cache/mkdocs-jupyter
