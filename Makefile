# The README's commands: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages the project needs: chromium for the browser tests (playwright drives it;
# its own browser download is not reachable here), CJK fonts so pages render Chinese.
DEB_PACKAGES := chromium fonts-noto-cjk

.PHONY: demo test lint typecheck sysdeps clean bench

$(STAMP): pyproject.toml
	$(MAKE) sysdeps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

sysdeps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

demo: $(STAMP)
	$(BIN)/arrears demo

# The suite on two workers, the two cores of the machines it runs on: 10 to 22 minutes by
# the machine (docs/PERFORMANCE.md; each test stands alone: its own database or schema,
# ports and folders).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2

bench: $(STAMP)
	$(BIN)/python bench/import_feed.py --installments 1000000

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
