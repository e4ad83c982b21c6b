# Two commands do all setup on a fresh machine: `make synth` and `make test`.
# Every target installs what it needs (Python venv + pinned packages, local CDK CLI).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPLOYMENTS ?= deployments/default.yaml

# jsii prints an end-of-life banner for Node 20 on every import of aws_cdk; the CDK CLI must not
# phone home (notices, version check, telemetry) or look for EC2 instance credentials during synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export AWS_EC2_METADATA_DISABLED := true
export PYTHONDONTWRITEBYTECODE := 1

CDK := npx --no-install cdk --no-notices

.PHONY: synth test validate plan diff deploy clean bench help

help:
	@echo "make synth   - synthesize $(DEPLOYMENTS) to cdk.out/ (no AWS account needed)"
	@echo "make test    - run the whole test suite"
	@echo "make plan MODEL=<id>      - print the plan for one model"
	@echo "make diff / make deploy   - cdk diff / preflight + cdk deploy --all + verify (needs AWS credentials)"

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Validate every deployment before any stack is built: a bad file fails here with one paragraph
# (exit 2) and leaves no templates behind.
validate: $(VENV)/.runtime
	@$(PY) -m selector validate $(DEPLOYMENTS) --quiet

synth: $(VENV)/.runtime node_modules/.installed
	@rm -rf cdk.out
	@$(PY) -m selector validate $(DEPLOYMENTS) --quiet
	$(CDK) synth --quiet -c deployments=$(DEPLOYMENTS)
	@echo "Synthesized $(DEPLOYMENTS) to cdk.out/ (review: cdk.out/plan.md)"

test: $(VENV)/.dev node_modules/.installed
	$(PY) -m pytest

plan: $(VENV)/.runtime
	@$(PY) -m selector plan --model $(MODEL)

diff: $(VENV)/.runtime node_modules/.installed
	$(CDK) diff -c deployments=$(DEPLOYMENTS)

# Preflight every stack, `cdk deploy --all` with the pinned CLI, then verify each endpoint (provision/deploy.py).
deploy: synth
	$(PY) -m provision deploy --all --app cdk.out

bench: $(VENV)/.dev node_modules/.installed
	$(PY) bench/plan.py
	$(PY) bench/cost.py
	$(PY) bench/synth.py

clean:
	rm -rf cdk.out .pytest_cache

# Laptop workflow without an AWS account: synthesize, then `python -m provision deploy --all` (the real CDK CLI)
# into a local moto cloud, check every endpoint is InService and answers, and `provision destroy --all`
# (tests/provision/deploy_local.py, also run by the test suite). KEEP=1 leaves it up until Ctrl-C.
.PHONY: deploy-local
deploy-local: synth $(VENV)/.dev
	$(PY) tests/provision/deploy_local.py --app cdk.out $(if $(KEEP),--keep,)
