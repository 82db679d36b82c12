# Every target builds and reuses .venv by itself: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv demo test lint typecheck unit cfn bench clean format teams-package
.DEFAULT_GOAL := help

help:
	@echo "make demo    set up .venv, then run the example call job on simulated phones"
	@echo "make test    set up .venv, then ruff, mypy, cfn-lint and every test"
	@echo "make bench   speed, memory, Slack-call and Lambda package-size figures"
	@echo "make lint | typecheck | cfn | unit   the parts of make test"
	@echo "make teams-package TEAMS_APP_ID=<guid> TEAMS_DEVELOPER_URL=https://...  the Teams app zip"
	@echo "make format  ruff format + fixes;  make clean  remove .venv, outputs and the local job db"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/callouts validate examples/call_job.xlsx
	$(BIN)/callouts preview examples/call_job.xlsx
	$(BIN)/callouts run examples/call_job.xlsx --answers examples/answers.csv --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn: $(STAMP)
	$(BIN)/python -m backend.deploy.render --check
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck cfn unit

# The Teams app package (manifest + icons) for the Entra app TEAMS_APP_ID: dist/callouts-teams.zip
teams-package: $(STAMP)
	$(BIN)/python -m bot.teams.package --app-id "$(TEAMS_APP_ID)" \
		--developer-url "$(TEAMS_DEVELOPER_URL)" --out dist/callouts-teams.zip

bench: $(STAMP)
	$(BIN)/python -m bench

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) out .callouts .pytest_cache .mypy_cache .ruff_cache .aws-sam build dist
