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
	@for f in tests/benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info app/*.egg-info
