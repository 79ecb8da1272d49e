# Two-command quick start: `make demo` and `make test`, both from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
OUT ?= outputs/demo

.PHONY: demo app app-screenshots test lint format docs translations clean bench compare-engines chromium validation-figures baseline golden

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamps are rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/impactsim run --out $(OUT)

# The planners' web app (docs/app.md) on the built-in default municipality; SCENARIOS=...
# PORT=... LANG_APP=nl to change. Its page files come from PyPI (solara-assets, pinned).
PORT ?= 8765
LANG_APP ?= en
app: $(VENV)/.installed-app
	$(BIN)/impactsim app $(SCENARIOS) --port $(PORT) --lang $(LANG_APP)

$(VENV)/.installed-app: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[app]"
	touch $@

# Rewrite docs/figures/app-*.png (the README's screenshots) from the browser tests.
app-screenshots: $(VENV)/.installed-test chromium
	IMPACTSIM_SCREENSHOTS=docs $(BIN)/python -m pytest -q -p no:xdist tests/test_app_browser.py

# The report test renders HTML in headless Chromium (Debian package 'chromium'); installed
# here when absent and when we may (root), otherwise that one test is skipped locally.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: chromium not installed; the report rendering test will be skipped"; }

test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest -n 2 -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

docs: $(VENV)/.installed
	$(BIN)/python -m impactsim.docgen docs/scenario.md

# extract planner-facing messages, update the Dutch catalogue, compile it (Babel)
translations: $(VENV)/.installed
	$(BIN)/python scripts/update_translations.py

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_benchmarks.py --mesa-sizes 10000 100000

# Paired speed of two engine versions (benchmarks/README.md); NEW defaults to this tree.
compare-engines: $(VENV)/.installed
	@test -n "$(OLD)" || { echo "usage: make compare-engines OLD=<git ref> [NEW=<git ref or directory>]"; exit 2; }
	$(BIN)/python benchmarks/compare_engines.py $(OLD) $(NEW)

# Figures of the analytic validation cases (docs/validation.md).
validation-figures: $(VENV)/.installed
	$(BIN)/python scripts/validation_figures.py

# Rewrite tests/baseline.yaml on purpose; explain in the commit message why numbers changed.
baseline: $(VENV)/.installed
	$(BIN)/python scripts/update_baseline.py

clean:
	rm -rf $(VENV) outputs .pytest_cache

# Rewrite tests/golden/digests.json on purpose; the commit says why the engine's bits moved.
golden: $(VENV)/.installed
	NUMBA_NUM_THREADS=3 $(BIN)/python tests/golden/harness.py --threads 1 2 3 --write
