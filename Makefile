# Hindsight — the newcomer's door. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      := .venv/bin/python
HS      := .venv/bin/hindsight
export HINDSIGHT_HOME ?= $(CURDIR)/.hindsight
STAMP   := .venv/.installed

.PHONY: help install up down serve relay submit savepoint rebuild generate status logs urls demo test test-unit test-integration faults lint bench bench-store bench-validator bench-pipeline bench-latency bench-job bench-load bench-sinks bench-partitions bench-stack bench-report bench-replay bench-search contracts

help: ## list every target with one line each
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock localstack/bin/install-system-packages.sh
	@localstack/bin/install-system-packages.sh
	@python3 -m uv sync --frozen --quiet
	@touch $@

install: $(STAMP) ## install Python deps (uv), system packages and every server's jars
	@$(HS) stack install

up: $(STAMP) ## start Kafka, Flink, Elasticsearch, Neo4j, PostgreSQL on 127.0.0.1 (idempotent)
	@$(HS) stack up

down: ## stop the service, the relay and the servers `make up` started, by pid
	@if [ -x $(HS) ]; then $(HS) service stop; $(HS) relay stop; $(HS) sink stop; \
	  $(HS) stack down; fi

serve: $(STAMP) ## start the HTTP command service on 127.0.0.1:8000 in the background
	@$(HS) service start

relay: $(STAMP) ## start the outbox relay (event store -> Kafka) in the background
	@$(HS) relay start

submit: $(STAMP) ## submit the PyFlink projection job to the cluster (FROM=<savepoint> to resume)
	@$(HS) job submit $(if $(FROM),--from $(FROM))

savepoint: $(STAMP) ## take a savepoint of the running projection job and print its path
	@$(HS) job savepoint

rebuild: $(STAMP) ## rebuild every read model beside the live ones from the whole log, check parity, switch
	@$(HS) rebuild

generate: $(STAMP) ## generate N events through the service: make generate N=10000
	@$(HS) generate --events $(or $(N),10000)

status: $(STAMP) ## table of servers: state, version, ports, pid, memory, log
	@$(HS) stack status

logs: $(STAMP) ## tail one server's log: make logs S=kafka
	@$(HS) stack logs $(or $(S),$(error give a server: make logs S=kafka)) --follow

urls: $(STAMP) ## where to look: Flink UI, Neo4j Browser, Elasticsearch
	@$(HS) stack urls

demo: up ## the whole platform on generated data: service, relay, Flink job, sinks, then a tour
	@$(HS) demo --events $(or $(N),10000)

test: $(STAMP) lint contracts ## install what is missing, start the servers, run all tests, stop what it started
	@$(HS) stack up --started-file $(HINDSIGHT_HOME)/.test-started
	@rc=0; $(PY) -m pytest tests || rc=$$?; \
	  $(HS) stack down --only-file $(HINDSIGHT_HOME)/.test-started; exit $$rc

test-unit: $(STAMP) ## the fast tests: pure code and in-memory fakes, no servers
	@$(PY) -m pytest tests/unit

test-integration: $(STAMP) ## the tests against the real servers (needs `make up`)
	@$(PY) -m pytest tests/integration

faults: up ## every fault case under live traffic (CASE=<name> for one); figures in $(HINDSIGHT_HOME)/bench/faults.json
	@$(PY) -m entrypoints.faults $(if $(CASE),--case $(CASE))

bench: bench-store bench-validator bench-load bench-pipeline bench-latency bench-job bench-sinks bench-partitions bench-replay bench-search bench-stack ## every benchmark, then the README's table (figures in $(HINDSIGHT_HOME)/bench/)
	@$(MAKE) --no-print-directory bench-report

bench-report: $(STAMP) ## the README's "Measured" table from the figures files (N, date, commit per row)
	@$(PY) -m benchmarks.report

bench-load: $(STAMP) ## generated traffic into a fresh store: via the HTTP service and via the store in batches
	@$(PY) -m benchmarks.bench_load

bench-sinks: up ## the sinks' rows/s from empty to N rows, batch sizes compared, every graph statement PROFILEd, the cost of an Eager
	@$(PY) -m benchmarks.bench_sinks --events $(or $(N),50000)

bench-partitions: up ## fresh Kafka topics produced to at once: first batches refused, with and without the wait
	@$(PY) -m benchmarks.new_partitions

bench-stack: $(STAMP) ## `make up` from stopped and again, memory at rest (stops the stack first, leaves it up)
	@$(MAKE) --no-print-directory down
	@$(PY) -m benchmarks.bench_stack

bench-pipeline: up ## on one log (N=200000): job alone (1 and 2 TMs), job + sinks, baseline, ceilings, latency, RSS; JSON + PNG
	@$(PY) -m benchmarks.bench_pipeline --events $(or $(N),200000) --mode standalone

bench-latency: up ## append->visible at half the measured e2e rate, checkpoints every 2000/1000/500 ms (N=200000)
	@$(PY) -m benchmarks.bench_pipeline --events $(or $(N),200000) --mode standalone --exec-mode thread \
	  --no-job-alone --no-baseline --no-replay --checkpoint-sweep 1000,500 --figures pipeline-latency

bench-replay: up ## a replay as of the log's end vs the live job + sinks, same log (N="200000 1000000"): events/s, ratio
	@$(PY) -m benchmarks.bench_replay --events $(or $(N),200000 1000000)

bench-job: up ## the projection job alone on N events (N=1000000): events/s, TaskManagers' peak RSS
	@$(PY) -m benchmarks.bench_pipeline --events $(or $(N),1000000) --mode standalone --exec-mode thread \
	  --job-only --figures pipeline-job

bench-search: up ## search quality per mode (bm25, semantic, hybrid): recall@5, nDCG@5 on paraphrases, p50/p99 (N=960 products)
	@$(PY) -m benchmarks.bench_search --products $(or $(N),960)

bench-validator: $(STAMP) ## contract validator throughput, events/s on one core
	@$(PY) -m benchmarks.bench_validator

bench-store: $(STAMP) ## event store vs the eventsourcing library, SQLite and PostgreSQL
	@$(HS) stack up postgres
	@$(PY) -m benchmarks.bench_store

contracts: $(STAMP) ## lint the data contracts (ODCS + global policies) and write the catalog
	@$(HS) contracts lint
	@$(HS) contracts catalog

lint: $(STAMP) ## ruff
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
