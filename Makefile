# Attune: every habit is a target. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv from PATH; else through the interpreter, since `pip install uv` may put it outside PATH.
UV ?= $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
PY := $(UV) run --frozen
KAFKA_PORT ?= 9092
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_PORT)
DEMO_PAGER_PORT ?= 8099

.PHONY: help install kafka-up kafka-down kafka-status services-up services-down services-status \
        demo demo-down schemas lint format test test-unit test-integration test-e2e test-browser test-faults train \
        evaluate export-feedback corpus-stats bench-classifier bench-lexicon bench-ingest bench-escalation bench-pipeline compose-config clean

# Workspace members, each checked by deptry against its own pyproject.toml.
MEMBERS := schemas runtime auth services/ingest services/classifier services/router services/escalation models cli
MODULE_MAP := attune-schemas=attune_schemas,attune-runtime=attune_runtime,attune-auth=attune_auth,attune-ingest=attune_ingest,attune-classifier=attune_classifier,attune-router=attune_router,attune-escalation=attune_escalation,attune-models=attune_models

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Install uv (if missing) and the locked workspace into .venv
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

kafka-up: ## Start the local single-node Kafka (KRaft, jars from Maven Central); no-op if running
	@deploy/kafka/kafka.sh up

kafka-down: ## Stop the local Kafka (data stays in .run/kafka)
	@deploy/kafka/kafka.sh down

kafka-status: ## Is the local Kafka running?
	@deploy/kafka/kafka.sh status

services-up: install kafka-up ## Start ingest, classifier, router, escalation as local processes
	@deploy/local/services.sh up

services-down: ## Stop the four services
	@deploy/local/services.sh down

services-status: ## Which services run, and are they ready?
	@deploy/local/services.sh status

demo: install kafka-up ## Run the whole pipeline on real Kafka: a demo tenant's key sends, its clinician logs in and acts
	@deploy/local/services.sh down >/dev/null
	@deploy/demo/credentials.sh
	@ATTUNE_ESCALATION_CHANNELS='{"pager": {"type": "webhook", "url": "http://127.0.0.1:$(DEMO_PAGER_PORT)/pager"}}' \
	  ATTUNE_ESCALATION_POLICIES_FILE=deploy/demo/policies.yaml \
	  ATTUNE_ESCALATION_CRISIS_PROTOCOLS_FILE=deploy/escalation/crisis-protocols.example.yaml deploy/local/services.sh up
	@set -a && . .run/demo.env && set +a && ATTUNE_DEMO_PAGER_PORT=$(DEMO_PAGER_PORT) $(PY) python deploy/demo/demo.py
	@echo "Console notifications as the services printed them:"
	@grep -h '^\[ATTUNE' .run/logs/escalation.log | tail -n 6
	@echo "Stop everything with: make demo-down"

demo-down: ## Stop the services and Kafka started by the demo
	@deploy/local/services.sh down
	@deploy/kafka/kafka.sh down

schemas: ## Export the event contracts (JSON Schema, schemas/json/) and each service's AsyncAPI (schemas/asyncapi/)
	$(PY) attune schemas

format: ## Format and autofix with ruff
	$(PY) ruff format .
	$(PY) ruff check --fix .

lint: ## ruff, mypy --strict, import-linter (layers) and deptry (declared vs imported dependencies)
	$(PY) ruff check .
	$(PY) ruff format --check .
	$(PY) mypy .
	$(PY) lint-imports
	@for m in $(MEMBERS); do \
	  $(PY) deptry $$m --config $$m/pyproject.toml --known-first-party $$(ls $$m/src | grep -v '\.') \
	    --package-module-name-map $(MODULE_MAP) || exit 1; \
	done

test-unit: ## Fast tier: in-memory broker, fakes, no servers
	$(PY) pytest tests/unit -q

test-integration: kafka-up ## Real Kafka and a real database, one service at a time
	$(PY) pytest tests/integration -q

test-e2e: kafka-up ## All four services as processes on real Kafka
	$(PY) pytest tests/e2e -q

test-browser: kafka-up ## The clinician console in headless Chromium (Debian's chromium via Playwright) on real Kafka
	$(PY) pytest tests/browser -q

test-faults: kafka-up ## Faults in a running pipeline: broker frozen, services killed, a future-dated event
	$(PY) pytest tests/faults -q

test: install lint ## Everything CI runs: lint, mypy, unit, integration, e2e, browser, faults
	@$(MAKE) --no-print-directory test-unit test-integration test-e2e test-browser test-faults

train: ## Rebuild the models (team corpus + C-SSRS dev) into models/artifacts and choose thresholds; FEEDBACK=.run/feedback adds clinicians' verdicts
	$(PY) attune train $(if $(FEEDBACK),--feedback $(FEEDBACK)/examples.jsonl)

evaluate: ## Evaluate on the team test split and real conversations (../shared/data), and precision by alert kind from exported verdicts; write models/MODEL_CARD.md
	$(PY) attune evaluate $(if $(FEEDBACK),--feedback $(FEEDBACK)/verdicts.jsonl)

export-feedback: ## Export clinicians' verdicts to .run/feedback/ (examples.jsonl in the corpus format, verdicts.jsonl) from the local escalation database
	ATTUNE_ESCALATION_DATABASE_URL=$${ATTUNE_ESCALATION_DATABASE_URL:-sqlite+aiosqlite:///$(CURDIR)/.run/escalation.db} \
	  $(PY) attune feedback export --out .run/feedback

corpus-stats: ## Counts per label, marker and split of the labelled corpus
	$(PY) python -m attune_models.corpus

bench-classifier: kafka-up ## Classifier latency and per-CPU throughput, end to end vs raw aiokafka, and memory
	$(PY) python -m attune_models.bench

bench-lexicon: ## Marker lexicon throughput: every pattern one by one vs the prefiltered tables
	$(PY) python -m attune_models.bench --lexicon

bench-ingest: kafka-up ## Ingest HTTP throughput and latency (single, fixed rate, batched) vs a produce-only baseline
	$(PY) python -m attune_ingest.bench

bench-escalation: install ## Deadline page lateness (p50/p99) with 10,000 open incidents and crisis alert -> first page latency, vs a light-load baseline
	$(PY) python -m attune_escalation.bench

bench-pipeline: kafka-up ## The four services end to end under 1,000 events/s: per-stage events/s and crisis -> page p50/p99, vs a raw aiokafka chain
	$(PY) python -m attune_cli.pipeline_bench

compose-config: ## Validate docker-compose.yml (needs docker-compose, no engine)
	@# Placeholders stand in for the secrets compose requires at start (see docker-compose.yml).
	ATTUNE_AUTH_JWT_SECRET=$${ATTUNE_AUTH_JWT_SECRET:-check} ATTUNE_METRICS_TOKEN=$${ATTUNE_METRICS_TOKEN:-check} \
	  docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid"

clean: ## Remove local state (.run), caches and the virtualenv
	rm -rf .run .venv .mypy_cache .ruff_cache .pytest_cache
