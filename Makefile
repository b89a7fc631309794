# xqg — two commands for a newcomer: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
XQG := $(BIN)/xqg
PLUGIN := $(BIN)/xqg-vectorizer
# The cache outside the clone (ONNX Runtime, weaviate-server, generated models and fixtures).
export XQG_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/xqg
GOTEST_TIMEOUT ?= 30m

.PHONY: all build setup test-deps test unit demo vet fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(XQG) ./cmd/xqg
	CGO_ENABLED=1 $(GO) build -o $(PLUGIN) ./cmd/xqg-vectorizer

# ONNX Runtime and weaviate-server into $(XQG_CACHE_DIR); skipped when already there.
setup: build
	$(XQG) setup

test-deps:
	./scripts/test-deps.sh

# Every test, the integration tests against a real weaviate-server included. XQG_TEST_STRICT turns a
# missing prerequisite into a failure instead of a skip.
test: setup test-deps tokenizer-fixtures
	XQG_TEST_STRICT=1 XQG_PLUGIN_BIN=$(PLUGIN) $(GO) test -count=1 -timeout $(GOTEST_TIMEOUT) ./...

# Unit tests only: no setup, missing prerequisites skip.
unit:
	$(GO) test -short ./...

demo: setup
	$(XQG) demo

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

clean:
	rm -rf $(BIN) .xqg

# Regenerate plugin/proto's Go code: protoc from Debian (apt-get install protobuf-compiler), the Go
# generators pinned to go.mod's google.golang.org/protobuf and a protoc-gen-go-grpc for grpc ≥ 1.64.
PROTOC_GEN_GO_VERSION ?= v1.36.6
PROTOC_GEN_GO_GRPC_VERSION ?= v1.5.1
.PHONY: proto
proto:
	GOBIN=$(XQG_CACHE_DIR)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(XQG_CACHE_DIR)/bin $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	cd plugin/proto && PATH=$(XQG_CACHE_DIR)/bin:$$PATH $(GO) generate .

# Tokenizer reference fixtures (spm_train/spm_encode, @huggingface/tokenizers on node) into
# $(XQG_CACHE_DIR)/tokenizer-fixtures; does nothing when up to date.
.PHONY: tokenizer-fixtures
tokenizer-fixtures:
	./scripts/tokenizer/fixtures.sh

# Ingest passages/s with 1 and 2 shard workers against a local 3-node cluster (3 shards, RF 2), and
# each node's memory. XQG_BENCH_PASSAGES (2000) sizes the corpus; XQG_BENCH_GENERATOR=1 adds generation.
.PHONY: bench-cluster
bench-cluster: setup
	XQG_PLUGIN_BIN=$(PLUGIN) $(GO) test ./integration/ -run '^$$' -bench '^BenchmarkClusterIngest$$' -benchtime 1x -timeout 30m
