# Two entry points on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install interop demo test test-fast bench clean

install: $(STAMP)

# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Other programs' own import code, each in a venv of its own (their pins clash with ours): QualCoder
# (PyQt6, for tests/test_qualcoder.py) and Taguette (tests/test_taguette.py). Their tests skip,
# saying so, when these are absent. `.ci/run` makes them before `make test`.
INTEROP := .venv-interop
interop: $(INTEROP)/qualcoder/.installed $(INTEROP)/taguette/.installed

$(INTEROP)/%/.installed: tests/interop/%.txt
	rm -rf $(INTEROP)/$*
	$(PY) -m venv $(INTEROP)/$*
	$(INTEROP)/$*/bin/pip install -q --no-deps -r $<
	touch $@

SAMPLE := data/sample-study

# The sample study: a study folder made by `ethnoflow init --sample`, then one pipeline run.
demo: $(STAMP)
	test -f $(SAMPLE)/study.yaml || $(BIN)/ethnoflow init --sample $(SAMPLE) \
		--title "Sample study: fictional #MedTwitter superusers"
	cd $(SAMPLE) && $(CURDIR)/$(BIN)/ethnoflow run
	@echo "report: $(SAMPLE)/reports/sample-study/report.html"

# Two workers for two cores; each test module runs whole on one worker (its module fixtures once),
# modules with slow tests dealt first (tests/conftest.py orders them).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadscope --no-loadscope-reorder

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(INTEROP) data/*.duckdb* $(SAMPLE)
