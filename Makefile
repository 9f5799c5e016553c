# The two commands: `make demo` and `make test`. Everything else is for developers and installers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# make test runs the suite in 4 processes (pytest-xdist) on this 2-core machine: the tests wait on
# processes, pages and devices most of the time, and 4 was the fastest of 2, 3, 4 and 6
# (docs/benchmarks.md). Each test file runs whole in one of them, costliest first
# (tests/conftest.py); TEST_WORKERS=0 runs it in one. The property tests run derandomized
# (hypothesis profile "ci", in tests/conftest.py); HYPOTHESIS=default explores new examples instead
TEST_WORKERS ?= 4
HYPOTHESIS ?= ci

.PHONY: demo test test-install test-dates faults bench sysdeps venv clean

$(STAMP): setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,test]'
	@touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@sh scripts/sysdeps.sh

demo: $(STAMP) sysdeps
	$(BIN)/python -m $(if $(COUNTY),hwd.county.demo,hwd.demo) --config config/demo.toml $(if $(NIGHT),--night)

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --hypothesis-profile=$(HYPOTHESIS) $(PYTEST_ARGS)

# the offline install on a booted Debian 12 (root; docs/deploy.md "Testing the install"): fresh
# install, crash and watchdog, reboot, uninstall, upgrade from HWD_TEST_PREVIOUS, rollback
test-install: $(STAMP) sysdeps
	HWD_TEST_INSTALL=1 $(BIN)/python -m pytest tests/deploy/test_booted_install.py $(PYTEST_ARGS)

# the hall and page tests with hwd's wall clock moved (docs/hall.md: no test depends on today's date)
DATES ?= 2031-01-01T00:00:00 2028-02-29T23:59:00 2026-12-31T23:59:00
test-dates: $(STAMP) sysdeps
	@for t in $(DATES); do echo "== HWD_FAKE_NOW=$$t"; \
	    HWD_FAKE_NOW=$$t $(BIN)/python -m pytest tests/hall tests/ui $(PYTEST_ARGS) || exit 1; done

faults: $(STAMP) sysdeps
	$(BIN)/python -m pytest -m faults --run-faults $(PYTEST_ARGS)

bench: $(STAMP) sysdeps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .demo .pytest_cache build *.egg-info

# make install / make uninstall (root): see docs/deploy.md
include mk/install.mk
