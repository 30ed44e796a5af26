# OnCallNova. `make run` serves the all-in-one on 127.0.0.1:8080 with SQLite under ./data;
# `make test` runs the whole suite. Both install what they need on first use.
# Every operator command has a target of its name: `make full-demo`, `make logs ARGS="web -f"`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-system test-faults lint format install distclean proto deploy-config deploy-tools deploy-check

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

run: install
	@echo "OnCallNova on http://127.0.0.1:8080 (API docs at /docs)."
	@echo "Sign in as the admin: on the first start its password is printed below, once;"
	@echo "or set ONCALLNOVA_ADMIN_EMAIL and ONCALLNOVA_ADMIN_PASSWORD before it. See README."
	$(VENV)/bin/oncallnova serve $(ARGS)

# `make deploy-check` first (tests/deploy), then the suite in process: every use case,
# route and page on SQLite and PostgreSQL, in-process and over gRPC. The tests that start
# servers, Chromium or peers as processes are `make test-system`; the fault and topology
# tests `make test-faults`. CI runs all three.
test: install deploy-check
	bash scripts/test-services.sh
	$(VENV)/bin/pytest --ignore=tests/deploy -m "not faults and not slow" $(PYTEST_ARGS)

# Servers, engines and roles as processes (kills, races, the split), the browser tests
# (Chromium), the operator's commands, the MCP server over stdio and HTTP, real peers
# (Alertmanager, Prometheus, the Opsgenie SDK) and the API fuzzed by schemathesis.
test-system: install
	bash scripts/test-services.sh
	$(VENV)/bin/pytest --ignore=tests/deploy -m "slow and not faults" $(PYTEST_ARGS)

# Whole stacks (`oncallnova stack`) killed, Redis and PostgreSQL taken away, the gateway's
# limits, the deployment commands on the native topology; each prints what it counted.
test-faults: install
	bash scripts/test-services.sh
	$(VENV)/bin/pytest -m faults -rP $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The gRPC code under src/oncallnova/transport/grpc/gen/ from proto/ (committed; a test
# fails when it is stale). scripts/gen_proto.py runs `python -m grpc_tools.protoc`.
proto: install
	$(VENV)/bin/python scripts/gen_proto.py

# deploy/: regenerate the files made from the roles table (Compose, Traefik, Prometheus,
# the Helm chart's roles); a test fails when the committed ones are stale.
deploy-config: install
	$(VENV)/bin/python -m oncallnova.deploy.generate

# Validators no dependency group installs as a command (Docker Compose's binary).
deploy-tools: install
	bash scripts/deploy-tools.sh

# Every deployment file checked by the real tools (Compose, hadolint, promtool, Traefik,
# Helm, kubernetes-validate), and the image's install replayed with the roles started.
deploy-check: install deploy-tools
	bash scripts/test-services.sh
	$(VENV)/bin/pytest tests/deploy -q

distclean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache

# The operator's commands (README, "Operating OnCallNova"): `make NAME ARGS="..."` runs
# `oncallnova NAME ...`: against the running server (ONCALLNOVA_URL, default
# http://127.0.0.1:8080) or on the deployment (Docker Compose). `make clean` is the
# deployment's clean (it asks first); `make distclean` removes the local environment.
OPERATOR_COMMANDS := login logout status health test-alert test-batch demo full-demo \
	webhook-add webhooks analytics security deploy build down restart clean logs scale scale-down
.PHONY: $(OPERATOR_COMMANDS)
$(OPERATOR_COMMANDS): install
	$(VENV)/bin/oncallnova $@ $(ARGS)
