# ModelDesk: the two commands in the README, plus the benchmarks.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO ?= demo.mdesk

.PHONY: test demo bench install clean package check-package

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

# The one-folder desktop app, dist/ModelDesk/ (packaging/modeldesk.spec; docs/packaging.md).
# Its own venv with a plain (not editable) install and no test extras, so only what the app needs goes in.
PKG_VENV := build/package-venv
PKG_PY := $(PKG_VENV)/bin/python

package:
	test -x $(PKG_PY) || $(PYTHON) -m venv $(PKG_VENV)
	$(PKG_PY) -m pip install --quiet --upgrade pip
	rm -rf build/lib build/bdist.*   # setuptools' in-tree leftovers would put deleted modules back in
	$(PKG_PY) -m pip install --quiet '.[package]' && $(PKG_PY) -m pip install --quiet --force-reinstall --no-deps .
	$(PKG_PY) -m PyInstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/modeldesk.spec
	$(PKG_PY) packaging/measure.py dist/ModelDesk

# Build the app, then run it headless: --version, demo --no-ui, its window (xcb under xvfb-run), serve, report.
check-package: package $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:randomly tests/test_install.py -k packaged

clean:
	rm -rf $(VENV) build dist *.egg-info app/*.egg-info
