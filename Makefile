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

# Stored notebook outputs are made and checked single-threaded: float
# reductions depend on the thread count.
export OMP_NUM_THREADS := 1
# The offline data beside the repository, when it is there.
ifneq ($(wildcard ../shared/data/mnist),)
export HOPNB_DATA ?= $(abspath ../shared/data)
endif

.PHONY: test book notebooks venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e ".[book,test]"
	touch $@

## Unit tests and strict nbval on every notebook of the book.
test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

## The HTML book, from the outputs stored in the notebooks; lands in _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going .

## Re-execute every notebook on a fresh kernel and normalise it (after changing hopnb).
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NB)

clean:
	rm -rf _build
