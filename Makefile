# portway developer entry points. Two commands matter on a fresh machine:
#   make demo   install everything, start a server with the example services
#               and embedded SFTP/FTP servers, print what to try
#   make test   install everything and run lint, type checks and the test suite
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DEMO_ENV ?= demo-env
DEMO_PORT ?= 17010
APT_PACKAGES := openssh-server openssh-client vsftpd chromium curl postgresql

.PHONY: help install uv system-deps test lint typecheck pytest demo demo-stop bench clean

help:
	@echo "make demo   - install, start a demo server with example services, print what to try"
	@echo "make test   - install, then ruff, mypy --strict (kernel) and pytest"
	@echo "make bench  - run the benchmarks in bench/ (each prints our/peer ratios)"
	@echo "make demo-stop - stop the demo server and its embedded SFTP/FTP servers"

uv:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv

# Debian packages for the real peers the tests start (sshd, vsftpd, Chromium).
# Installed only when root; otherwise those tests skip and say why.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "apt-get install$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi; \
	else echo "not root or no apt-get: skipping system packages ($(APT_PACKAGES))"; fi

install: uv system-deps
	@UV=$$(command -v uv || echo $(UV)); $$UV sync --all-packages --quiet

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check kernel tests/kernel

typecheck: install
	$(BIN)/mypy kernel/src

pytest: install
	$(BIN)/pytest

test: install lint typecheck pytest

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

demo: install
	@$(BIN)/python -m portway.demo $(DEMO_ENV) --port $(DEMO_PORT) --services hotdeploy

demo-stop:
	@$(BIN)/python -m portway.demo $(DEMO_ENV) --stop

clean:
	rm -rf $(VENV) $(DEMO_ENV) .mypy_cache .ruff_cache
