# connect-ingest: `make run` runs the system, `make test` runs its tests. Both
# bring up the local stack first (scripts/stack.sh), installing or building
# whatever is missing.
SHELL := /bin/bash
CACHE := $(or $(CONNECT_INGEST_CACHE),$(HOME)/.cache/connect-ingest)
WORKFLOWCHECK_VERSION := v0.6.0
WORKFLOWCHECK := $(CACHE)/workflowcheck-$(WORKFLOWCHECK_VERSION)/workflowcheck
PROMTOOL_VERSION := v0.316.0
PROMTOOL := $(CACHE)/promtool-$(PROMTOOL_VERSION)/promtool
HELM_VERSION := v4.3.2
HELM := $(CACHE)/helm-$(HELM_VERSION)/helm
# An execution count, not a duration: a duration races the fuzz coordinator's deadline
# on Go 1.26 and can fail with "context deadline exceeded" and no input (go.dev/issue/75804).
FUZZTIME ?= 200000x

.PHONY: run test stack stack-down build fmt-check vet floors workflowcheck compose-check rules-check go-test fuzz fuzz-short bench faults

## run: start the stack, migrate, then the gateway and the worker in the foreground (GATEWAYS=N WORKERS=M for several)
run: stack
	scripts/run.sh

## test: start the stack, then gofmt, go vet, the floors check, workflowcheck, compose check, the alert rules' tests,
## go test -race and short fuzzing
test: stack fmt-check vet floors workflowcheck compose-check rules-check go-test fuzz-short

## stack: bring up PostgreSQL, RabbitMQ, Temporal (+UI), MinIO and the S3 stand-in; migrate; register search attributes.
## TEMPORAL=postgres runs the full Temporal server on PostgreSQL (TEMPORAL_SHARDS history shards) instead of the dev server.
TEMPORAL ?= dev
export TEMPORAL
stack:
	scripts/stack.sh
	go run ./cmd/ingestctl setup

## stack-down: stop what `make stack` started (never the machine's own PostgreSQL or RabbitMQ)
stack-down:
	scripts/stack-down.sh

build:
	go build -o bin/ ./gateway ./worker ./cmd/...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

## floors: no package imports one on a higher floor (internal/layout; docs/ARCHITECTURE.md)
floors:
	go test -count=1 ./internal/layout

$(WORKFLOWCHECK):
	GOBIN=$(dir $@) go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

workflowcheck: $(WORKFLOWCHECK)
	$(WORKFLOWCHECK) ./...

compose-check:
	scripts/compose-check.sh

# promtool, built once from Prometheus's Go module into the cache (a few minutes cold).
$(PROMTOOL):
	@echo "building promtool $(PROMTOOL_VERSION) into $(dir $@) (cold: a few minutes)"
	GOBIN=$(dir $@) CGO_ENABLED=0 go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

# helm, built once from its Go module into the cache (a few minutes cold); the chart's
# tests (internal/deploycheck) render and lint with it.
$(HELM):
	@echo "building helm $(HELM_VERSION) into $(dir $@) (cold: several minutes)"
	GOBIN=$(dir $@) CGO_ENABLED=0 go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

## rules-check: the Prometheus alert rules are valid and pass their unit tests (deploy/prometheus/alerts_test.yml)
rules-check: $(PROMTOOL)
	$(PROMTOOL) check config --syntax-only deploy/prometheus/prometheus.yml
	$(PROMTOOL) check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && $(PROMTOOL) test rules alerts_test.yml

go-test: $(HELM)
	HELM=$(HELM) go test -race -count=1 -timeout 40m ./...

## fuzz-short: each fuzz target briefly (CI, FUZZTIME executions, default 200000x); fuzz: each for FUZZ_LONG (default 5m)
fuzz-short:
	go test -run='^$$' -fuzz='^FuzzScanner$$' -fuzztime=$(FUZZTIME) ./internal/jsonscan
	go test -run='^$$' -fuzz='^FuzzDecodeRequest$$' -fuzztime=$(FUZZTIME) ./internal/firehose
	go test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/ctr
	go test -run='^$$' -fuzz='^FuzzRouterAgreesWithParser$$' -fuzztime=$(FUZZTIME) ./internal/ctr

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(or $(FUZZ_LONG),5m)

## faults: every fault scenario with 200 conversations each, on 2 gateways and 3 workers (GATEWAYS=N WORKERS=M
## for another shape; about forty minutes); writes RELIABILITY.md (RELIABILITY-postgres.md with TEMPORAL=postgres)
## and brings the stack back up afterwards, whatever happened
faults: stack
	FAULTS=full FAULT_GATEWAYS=$(or $(GATEWAYS),2) FAULT_WORKERS=$(or $(WORKERS),3) FAULTS_REPORT=$(CURDIR)/$(if $(filter postgres,$(TEMPORAL)),RELIABILITY-postgres.md,RELIABILITY.md) go test -count=1 -timeout 90m -run '^(TestFaults|TestNoisyTenant)$$' -v ./e2e; \
	status=$$?; scripts/stack.sh >/dev/null; exit $$status

## bench: benchmarks against raw baselines measured in the same run; writes BENCHMARKS.md
bench: stack
	scripts/bench.sh
