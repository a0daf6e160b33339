# portway developer entry points. Two commands matter on a fresh machine:
#   make demo   install everything, start a server with the example services
#               and embedded SFTP/FTP servers, print what to try
#   make test   install everything and run lint, type checks and the test suite
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
# The demo runs from an environment of its own, made like a user's install: no test fixtures.
DEMO_VENV := .venv-demo
DEMO_BIN := $(DEMO_VENV)/bin
DEMO_ENV ?= demo-env
DEMO_PORT ?= 17010
APT_PACKAGES := openssh-server openssh-client vsftpd chromium curl postgresql wrk haproxy

.PHONY: help install demo-install uv system-deps test lint typecheck pytest demo demo-cluster demo-stop bench clean

help:
	@echo "make demo   - install, start a demo server with example services, print what to try"
	@echo "make test   - install, then ruff, mypy --strict (kernel) and pytest"
	@echo "make bench  - run the benchmarks in bench/ (each prints our/peer ratios)"
	@echo "make demo-cluster - PostgreSQL, 3 servers on it and HAProxy in front (docs/cluster.md)"
	@echo "make demo-stop - stop the demo servers (and the demo cluster) and the embedded SFTP/FTP servers"

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

# --compile-bytecode: the shell may say PYTHONDONTWRITEBYTECODE, and every start would compile again.
install: uv system-deps
	@UV=$$(command -v uv || echo $(UV)); $$UV sync --all-packages --quiet --compile-bytecode

demo-install: uv system-deps
	@UV=$$(command -v uv || echo $(UV)); UV_PROJECT_ENVIRONMENT=$(DEMO_VENV) $$UV sync --no-dev --quiet --compile-bytecode

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

DEMO_DATA = $(abspath $(DEMO_ENV))/demo-data
DEMO_SFTP_PORT ?= 2222
DEMO_FTP_PORT ?= 2121
DEMO_FTPS_PORT ?= 2990
PW := $(DEMO_BIN)/portway

demo: demo-install
	@$(MAKE) --no-print-directory demo-stop >/dev/null 2>&1 || true
	@[ -f $(DEMO_ENV)/portway.toml ] || $(PW) create $(DEMO_ENV) --port $(DEMO_PORT) --dir $(CURDIR)/hotdeploy
	@mkdir -p $(DEMO_DATA)/sftp $(DEMO_DATA)/ftp $(DEMO_DATA)/sftp-state
	@echo "Hello from the demo SFTP server" > $(DEMO_DATA)/sftp/readme.txt
	@echo "Hello from the demo FTPS server" > $(DEMO_DATA)/ftp/readme.txt
	@nohup $(DEMO_BIN)/python -m portway_sftp.demo_server --root $(DEMO_DATA)/sftp --port $(DEMO_SFTP_PORT) \
	  --state-dir $(DEMO_DATA)/sftp-state > $(DEMO_ENV)/logs/sftp-demo.log 2>&1 & echo $$! > $(DEMO_ENV)/sftp-demo.pid
	@nohup $(DEMO_BIN)/python -m portway_ftp.demo_server --root $(DEMO_DATA)/ftp --port $(DEMO_FTP_PORT) \
	  --tls-port $(DEMO_FTPS_PORT) --cert-dir $(DEMO_DATA)/ftp-certs > $(DEMO_ENV)/logs/ftp-demo.log 2>&1 & \
	  echo $$! > $(DEMO_ENV)/ftp-demo.pid
	@for i in $$(seq 100); do [ -s $(DEMO_DATA)/sftp-state/known_hosts ] && [ -s $(DEMO_DATA)/ftp-certs/ca.pem ] && break; sleep 0.1; done
	@$(PW) conn show $(DEMO_ENV) sftp demo-sftp >/dev/null 2>&1 || $(PW) conn create $(DEMO_ENV) sftp demo-sftp \
	  --host 127.0.0.1 --port $(DEMO_SFTP_PORT) --username demo --password demo \
	  --known-hosts-file $(DEMO_DATA)/sftp-state/known_hosts
	@$(PW) conn show $(DEMO_ENV) ftp demo-ftps >/dev/null 2>&1 || $(PW) conn create $(DEMO_ENV) ftp demo-ftps \
	  --host localhost --port $(DEMO_FTPS_PORT) --username demo --password demo --tls explicit \
	  --ca-file $(DEMO_DATA)/ftp-certs/ca.pem
	@$(PW) conn show $(DEMO_ENV) ibm_mq demo-mq >/dev/null 2>&1 || $(PW) conn create $(DEMO_ENV) ibm_mq demo-mq \
	  --backend memory:DEMO --queue-manager DEMO
	@$(PW) channel show $(DEMO_ENV) ibm_mq demo-in >/dev/null 2>&1 || $(PW) channel create $(DEMO_ENV) ibm_mq demo-in \
	  --connection demo-mq --queue DEMO.IN --service portway.log-message
	@$(PW) channel show $(DEMO_ENV) http hello >/dev/null 2>&1 || $(PW) channel create $(DEMO_ENV) http hello \
	  --path /hello --service hello.hello
	@$(PW) channel show $(DEMO_ENV) http files >/dev/null 2>&1 || $(PW) channel create $(DEMO_ENV) http files \
	  --path /files --method GET --service demo.list-files
	@$(PW) start $(DEMO_ENV)
	@$(PW) admin list-users $(DEMO_ENV) --json 2>/dev/null | grep -q '"name": "admin"' || \
	  (echo 'demo-password-123' | $(PW) admin create-user $(DEMO_ENV) admin --password-stdin >/dev/null && \
	   echo "Console user 'admin', password 'demo-password-123' (change it: portway admin create-user)")
	@echo
	@echo "portway demo is running. Try:"
	@echo "  curl -s -X POST http://127.0.0.1:$(DEMO_PORT)/hello -H 'content-type: application/json' -d '{\"name\": \"Ada\"}'"
	@echo "  edit hotdeploy/hello.py, save, and call it again: the new version answers at once"
	@echo "  curl -s http://127.0.0.1:$(DEMO_PORT)/files          # a service listing the demo SFTP and FTPS servers"
	@echo "  $(PW) conn ping $(DEMO_ENV) sftp demo-sftp"
	@echo "  $(PW) sftp exec $(DEMO_ENV) demo-sftp 'ls -la'"
	@echo "  $(PW) ftp exec $(DEMO_ENV) demo-ftps 'ls -la'"
	@echo "  $(PW) mq send $(DEMO_ENV) demo-mq DEMO.IN --data 'hello MQ'   # then see it logged in $(DEMO_ENV)/logs/server.log"
	@echo "  $(PW) plugins"
	@echo "  $(PW) enmasse export $(DEMO_ENV)    # every connection and channel as one YAML file"
	@echo "  open http://127.0.0.1:$(DEMO_PORT)/admin   (the web console)"
	@echo "  make demo-stop"

# The cluster demo: a PostgreSQL of its own, three servers sharing it, HAProxy round-robin in front.
CLUSTER_DIR ?= demo-cluster
CLUSTER := $(abspath $(CLUSTER_DIR))
CLUSTER_PG_PORT ?= 17020
CLUSTER_LB_PORT ?= 17030
CLUSTER_URL = postgresql://portway@127.0.0.1:$(CLUSTER_PG_PORT)/portway
PG_BIN ?= $(firstword $(wildcard /usr/lib/postgresql/*/bin))
AS_PG = $(if $(filter 0,$(shell id -u)),runuser -u postgres --,)

demo-cluster: demo-install
	@$(MAKE) --no-print-directory demo-stop >/dev/null 2>&1 || true
	@[ -x "$(PG_BIN)/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql"; exit 1; }
	@mkdir -p $(CLUSTER) && chmod 0755 $(CLUSTER)
	@[ -d $(CLUSTER)/pg ] || { mkdir -p $(CLUSTER)/pg && $(if $(AS_PG),chown postgres $(CLUSTER)/pg &&,) \
	  $(AS_PG) $(PG_BIN)/initdb -D $(CLUSTER)/pg -A trust -U portway >/dev/null; }
	@$(AS_PG) $(PG_BIN)/pg_ctl -D $(CLUSTER)/pg -w -l $(CLUSTER)/pg/log \
	  -o "-p $(CLUSTER_PG_PORT) -k $(CLUSTER)/pg -c listen_addresses=127.0.0.1" start >/dev/null
	@$(PG_BIN)/psql -h 127.0.0.1 -p $(CLUSTER_PG_PORT) -U portway -d postgres -tAc \
	  "SELECT 1 FROM pg_database WHERE datname = 'portway'" | grep -q 1 || \
	  $(PG_BIN)/psql -h 127.0.0.1 -p $(CLUSTER_PG_PORT) -U portway -d postgres -qc "CREATE DATABASE portway"
	@for i in 1 2 3; do e=$(CLUSTER)/s$$i; [ -f $$e/portway.toml ] && continue; \
	  $(PW) create $$e --port 1701$$i --dir $(CLUSTER)/s$$i-local >/dev/null && \
	  sed -i 's|^url = ""|url = "$(CLUSTER_URL)"|' $$e/portway.toml && \
	  { [ $$i = 1 ] || cp $(CLUSTER)/s1/secrets.key $$e/secrets.key; }; done
	@for i in 1 2 3; do $(PW) start $(CLUSTER)/s$$i; done
	@$(PW) deploy push $(CLUSTER)/s1 hotdeploy/hello.py >/dev/null
	@$(PW) channel show $(CLUSTER)/s1 http hello >/dev/null 2>&1 || \
	  $(PW) channel create $(CLUSTER)/s1 http hello --path /hello --service hello.hello >/dev/null
	@printf 'global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  option redispatch\n  retries 2\nfrontend web\n  bind 127.0.0.1:$(CLUSTER_LB_PORT)\n  default_backend portway\nbackend portway\n  balance roundrobin\n  option httpchk GET /admin/api/health\n  server s1 127.0.0.1:17011 check inter 1s\n  server s2 127.0.0.1:17012 check inter 1s\n  server s3 127.0.0.1:17013 check inter 1s\n' > $(CLUSTER)/haproxy.cfg
	@haproxy -f $(CLUSTER)/haproxy.cfg -D -p $(CLUSTER)/haproxy.pid
	@echo
	@echo "portway cluster demo: 3 servers (17011-17013) on PostgreSQL :$(CLUSTER_PG_PORT), HAProxy on :$(CLUSTER_LB_PORT). Try:"
	@echo "  curl -s -X POST http://127.0.0.1:$(CLUSTER_LB_PORT)/hello -H 'content-type: application/json' -d '{\"name\": \"Ada\"}'   # answered by each server in turn"
	@echo "  $(PW) cluster status $(CLUSTER)/s1"
	@echo "  edit hotdeploy/hello.py, then: $(PW) deploy push $(CLUSTER)/s2 hotdeploy/hello.py   # live on all three"
	@echo "  $(PW) deploy rollback $(CLUSTER)/s3 hello.hello     # back on all three"
	@echo "  make demo-stop"

demo-stop:
	@[ -f $(CLUSTER)/haproxy.pid ] && kill $$(cat $(CLUSTER)/haproxy.pid) 2>/dev/null; rm -f $(CLUSTER)/haproxy.pid; true
	@for i in 1 2 3; do [ -f $(CLUSTER)/s$$i/portway.toml ] && $(PW) stop $(CLUSTER)/s$$i >/dev/null; done; true
	@[ -f $(CLUSTER)/pg/postmaster.pid ] && $(AS_PG) $(PG_BIN)/pg_ctl -D $(CLUSTER)/pg -m fast stop >/dev/null; true
	@[ -f $(DEMO_ENV)/portway.toml ] && $(PW) stop $(DEMO_ENV) || true
	@for p in sftp-demo ftp-demo; do [ -f $(DEMO_ENV)/$$p.pid ] && kill $$(cat $(DEMO_ENV)/$$p.pid) 2>/dev/null; \
	  rm -f $(DEMO_ENV)/$$p.pid; done; true

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(DEMO_ENV) $(CLUSTER_DIR) .mypy_cache .ruff_cache
