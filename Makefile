# ModelDesk: the two commands in the README, plus the benchmarks.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO ?= demo.mdesk

.PHONY: test demo bench install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/ruff check app tests tools
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

demo: $(STAMP)
	@if [ -f $(DEMO) ]; then echo "Opening the existing $(DEMO) (delete it to rebuild)"; \
		$(VENV)/bin/modeldesk ui $(DEMO); \
	else $(VENV)/bin/modeldesk demo $(DEMO); fi

bench: $(STAMP)
	@missed=""; for f in tests/benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || missed="$$missed $$f"; done; \
	if [ -n "$$missed" ]; then echo "== targets MISSED (or failed) in:$$missed"; exit 1; fi; echo "== every target met"

clean:
	rm -rf $(VENV) build *.egg-info app/*.egg-info
