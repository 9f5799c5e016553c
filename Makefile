# The two commands: `make demo` and `make test`. Everything else is for developers and installers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test faults bench sysdeps venv clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,test]'
	@touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@sh scripts/sysdeps.sh

demo: $(STAMP) sysdeps
	$(BIN)/python -m $(if $(COUNTY),hwd.county.demo,hwd.demo) --config config/demo.toml

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

faults: $(STAMP) sysdeps
	$(BIN)/python -m pytest -m faults --run-faults $(PYTEST_ARGS)

bench: $(STAMP) sysdeps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .demo .pytest_cache build *.egg-info

# make install / make uninstall (root): see docs/deploy.md
include mk/install.mk
