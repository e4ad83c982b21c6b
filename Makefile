# Two commands do all setup on a fresh machine: `make synth` and `make test`.
# Every target installs what it needs: a venv with the locked Python environment (requirements.lock, hashes
# checked, installed by uv) plus this package (editable), and the pinned CDK CLI (package-lock.json).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
ENV_READY := $(VENV)/.dev
DEPLOYMENTS ?= deployments/default.yaml
PYTEST_ARGS ?=

# jsii prints an end-of-life banner for Node 20 on every import of aws_cdk; the CDK CLI must not
# phone home (notices, version check, telemetry) or look for EC2 instance credentials during synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export AWS_EC2_METADATA_DISABLED := true
export PYTHONDONTWRITEBYTECODE := 1

CDK := npx --no-install cdk --no-notices
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu

.PHONY: synth test validate plan diff deploy clean bench help lint freshness lock setup

help:
	@echo "make synth   - synthesize $(DEPLOYMENTS) to cdk.out/ (no AWS account needed)"
	@echo "               BASE=path/to/base/plan.json opens cdk.out/plan.md with what changed against it"
	@echo "make test    - run the whole test suite"
	@echo "make lint    - ruff + mypy over the whole tree"
	@echo "make freshness - image catalog vs the pinned sagemaker-core (own venv, .venv-refresh)"
	@echo "make plan MODEL=<id>      - print the plan for one model"
	@echo "make diff / make deploy   - cdk diff / preflight + cdk deploy --all + verify (needs AWS credentials)"
	@echo "make lock    - re-resolve requirements*.lock from pyproject.toml / requirements-refresh.txt"

setup: $(ENV_READY) node_modules/.installed

# The installer itself is locked too (requirements-bootstrap.lock); pip shows its download progress.
$(UV): requirements-bootstrap.lock
	@echo "==> [1/3] creating $(VENV) and installing uv (locked) with pip"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements-bootstrap.lock
	@touch $@

# One locked environment for synth, tests, lint and deploy; uv prints what it resolves, downloads and installs.
# Bytecode is compiled once here: every later python process then imports aws_cdk/botocore ~1.3 s faster
# (PYTHONDONTWRITEBYTECODE below keeps __pycache__ out of the repository, so nothing would cache it later).
$(ENV_READY): requirements.lock pyproject.toml $(UV)
	@echo "==> [2/3] installing the locked Python environment ($$(grep -c '^[a-zA-Z].*==' requirements.lock) packages, requirements.lock)"
	$(UV) pip install --python $(PY) --require-hashes --compile-bytecode -r requirements.lock
	$(UV) pip install --python $(PY) --no-deps --no-build-isolation -e .
	@touch $(VENV)/.runtime $@

node_modules/.installed: package.json package-lock.json
	@echo "==> [3/3] installing the pinned CDK CLI (npm ci, package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Validate every deployment before any stack is built: a bad file fails here with one paragraph
# (exit 2) and leaves no templates behind.
validate: $(ENV_READY)
	@$(PY) -m selector validate $(DEPLOYMENTS) --quiet

synth: $(ENV_READY) node_modules/.installed
	@rm -rf cdk.out
	@$(PY) -m selector validate $(DEPLOYMENTS) --quiet
	$(CDK) synth --quiet -c deployments=$(DEPLOYMENTS) $(if $(BASE),-c base_plan=$(BASE) -c base_label=$(BASE),)
	@echo "Synthesized $(DEPLOYMENTS) to cdk.out/ (review: cdk.out/plan.md)"

# -rs prints the reason of every skipped test.
test: $(ENV_READY) node_modules/.installed
	$(PY) -m pytest -rs $(PYTEST_ARGS)

# Both run even when the first fails, so one run lists every finding.
lint: $(ENV_READY)
	@status=0; $(PY) -m ruff check . || status=1; $(PY) -m mypy || status=1; exit $$status

# The image catalog (selector/data/images.json) must equal a fresh build from the pinned sagemaker-core.
# sagemaker-core needs rich<15 and pulls pandas/scipy, so it gets a venv of its own.
.venv-refresh/.ready: requirements-refresh.lock $(UV)
	@echo "==> installing sagemaker-core (locked) into .venv-refresh"
	$(PYTHON) -m venv .venv-refresh
	$(UV) pip install --python .venv-refresh/bin/python --require-hashes -r requirements-refresh.lock
	@touch $@

freshness: .venv-refresh/.ready
	.venv-refresh/bin/python scripts/refresh_images.py --check
	.venv-refresh/bin/python -m pytest -rs tests/test_images_catalog.py

# Re-resolve the locks (needs the package index); commit the result. See README, "Setup". uv keeps every version
# already in a lock that still satisfies pyproject.toml; LOCK_ARGS="--upgrade-package aws-cdk-lib" (or --upgrade) moves them.
LOCK_ARGS ?=
lock: $(UV)
	$(UV) pip compile -q pyproject.toml --extra dev $(LOCK_FLAGS) $(LOCK_ARGS) --no-emit-package lmi-endpoints -o requirements.lock
	$(UV) pip compile -q requirements-refresh.txt $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements-refresh.lock
	echo "uv==$$($(UV) --version | cut -d' ' -f2)" | $(UV) pip compile -q - $(LOCK_FLAGS) -o requirements-bootstrap.lock

plan: $(ENV_READY)
	@$(PY) -m selector plan --model $(MODEL)

diff: $(ENV_READY) node_modules/.installed
	$(CDK) diff -c deployments=$(DEPLOYMENTS)

# Preflight every stack, `cdk deploy --all` with the pinned CLI, then verify each endpoint (provision/deploy.py).
deploy: synth
	$(PY) -m provision deploy --all --app cdk.out

bench: $(ENV_READY) node_modules/.installed
	$(PY) bench/plan.py
	$(PY) bench/cost.py
	$(PY) bench/synth.py

clean:
	rm -rf cdk.out .pytest_cache

# Laptop workflow without an AWS account: synthesize, then `python -m provision deploy --all` (the real CDK CLI)
# into a local moto cloud, check every endpoint is InService and answers, and `provision destroy --all`
# (tests/provision/deploy_local.py, also run by the test suite). KEEP=1 leaves it up until Ctrl-C.
.PHONY: deploy-local
deploy-local: synth
	$(PY) tests/provision/deploy_local.py --app cdk.out $(if $(KEEP),--keep,)
