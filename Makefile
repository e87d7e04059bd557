# The Hopfield Notebook: two commands, `make test` and `make book`.
# Each creates the virtual environment in $(VENV) when it is absent and
# reinstalls when pyproject.toml changes.

VENV     ?= .venv
PYTHON   ?= python3
# The torch requirement for this environment. The default is the CPU build on
# the project's CI machines; on a CUDA machine use `make test TORCH=torch`.
# hopnb itself never pins torch (Colab keeps its own).
TORCH    ?= torch==2.13.0
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed

# Stored notebook outputs are made single-threaded (`make notebooks`); the checks then compare
# them under PERTURB, so an output that depends on the thread count or the CPU cannot land.
export OMP_NUM_THREADS := 1
# The offline data beside the repository, when it is there.
ifneq ($(wildcard ../shared/data/mnist),)
export HOPNB_DATA ?= $(abspath ../shared/data)
endif

# "Another CPU", on this one: MKL's conditional-numerics path, two threads, ATen's
# portable kernels. Each changes the rounding of float reductions as another machine would.
PERTURB     := MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=2 ATEN_CPU_CAPABILITY=default
# The seed offset `make seeds` re-runs the book's claims on (any non-negative integer).
SEED_OFFSET ?= 1000

# MathJax 3, served with the book so that its formulas render without a network. npm
# installs it into .mathjax/ once; `make book` copies what the pages load into
# _build/vendor/ (the html_static_path of _config.yml). Neither is committed.
MATHJAX_VERSION := 3.2.2
MATHJAX_NPM     := .mathjax/$(MATHJAX_VERSION)/node_modules/mathjax/es5
MATHJAX         := _build/vendor/mathjax
MATHJAX_FILES   := tex-mml-chtml.js input/tex/extensions output/chtml ui a11y sre

.PHONY: test portable seeds book browser notebooks venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e ".[book,browser,docs,test]"
	touch $@

## Unit tests and doctests, then every notebook under strict nbval on "another CPU" (portable).
test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile tests hopnb
	$(MAKE) --no-print-directory portable

## Strict nbval on every notebook under PERTURB: fails on, and lists, every compared output that is
## not portable. One process with two threads: two xdist workers of two threads each on two cores
## thrash (measured: 31 min against 4 min for the whole book).
portable: $(STAMP)
	env $(PERTURB) $(BIN)/pytest -n 0 book

## Every notebook's asserts (not its output text) on fresh seeds, under PERTURB.
seeds: $(STAMP)
	env $(PERTURB) HOPNB_SEED_OFFSET=$(SEED_OFFSET) $(BIN)/pytest -n 0 --nbval-lax book

## The HTML book, from the outputs stored in the notebooks; lands in _build/html.
book: $(STAMP) $(MATHJAX)/.version-$(MATHJAX_VERSION)
	$(BIN)/jupyter-book build -W -n --keep-going .

$(MATHJAX)/.version-$(MATHJAX_VERSION):
	test -f $(MATHJAX_NPM)/tex-mml-chtml.js || npm install --prefix .mathjax/$(MATHJAX_VERSION) \
	  --no-audit --no-fund --no-update-notifier --silent mathjax@$(MATHJAX_VERSION)
	rm -rf $(MATHJAX) && mkdir -p $(MATHJAX)
	cd $(MATHJAX_NPM) && cp -r --parents $(MATHJAX_FILES) $(abspath $(MATHJAX))
	touch $@

## Every page of the built book in headless Chromium, offline: math, links, images,
## console errors, code and equations wider than the column, the menu on a narrow
## screen; screenshots land in _build/screenshots. Needs Debian's chromium. First the
## check's own tests, on synthetic pages.
browser: book
	$(BIN)/pytest -q tests/test_check_html.py
	$(BIN)/python tools/check_html.py

## Re-execute every notebook on a fresh kernel and normalise it (after changing hopnb).
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NB)

clean:
	rm -rf _build
