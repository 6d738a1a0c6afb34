# WorkPulse: the two commands a new user needs are `make dev` and `make test`.
SHELL := /bin/bash
GO    ?= go
# Every module of the workspace, from go.work.
MODULES := $(shell awk '/^[[:space:]]*\.\//{sub(/^[[:space:]]*\.\//, ""); print $$1}' go.work)
PKGS    := $(addprefix ./,$(addsuffix /...,$(MODULES)))
BIN     := $(CURDIR)/bin
# The commit that --version and workpulse_build_info name, for builds where Go stamps none
# (-buildvcs=false, a git worktree); hack/images and the Dockerfile record it the same way.
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell test -n "$$(git status --porcelain 2>/dev/null)" && echo -dirty)

.PHONY: help dev test lint build bench migrate fuzz clean images release cluster-up cluster-down e2e screenshots

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

dev: ## Run the whole platform locally: the web app on http://localhost:3000/, the API under /api.
	hack/web-build.sh
	hack/docs-build.sh
	$(GO) build -o $(BIN)/devstack ./hack/devstack
	WITH_DEPS_REDIS_OPTIONAL=1 hack/with-deps.sh $(BIN)/devstack

test: lint ## Run every test against real PostgreSQL, Redis and an in-process Kafka.
	hack/helm.sh >/dev/null # the chart tests' helm, built once into bin/
	hack/with-deps.sh $(GO) test -count=1 -timeout 40m $(PKGS)
	hack/with-deps.sh hack/fuzz.sh 20000x

lint: ## gofmt, go vet, the wall-clock check on every module, and the charts' generated values docs.
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) build -o $(BIN)/wallclock ./hack/wallclock
	$(GO) vet -vettool=$(BIN)/wallclock $(PKGS)
	hack/chart-docs.sh --check

build: ## Build the web app, then every binary into bin/.
	hack/web-build.sh
	hack/docs-build.sh
	$(GO) build -ldflags "-X github.com/workpulse/workpulse/services/platform/buildinfo.linkedRevision=$(REVISION)" -o $(BIN)/ ./migrations/cmd/migrate ./services/*/cmd/* ./operator/cmd/operator ./operator/cmd/kubectl-workpulse

bench: ## Benchmarks against make dev's stack; writes docs/benchmarks.md.
	hack/bench.sh

screenshots: ## Screenshots of every page of the web app at laptop and phone width into docs/screenshots.
	hack/with-deps.sh env WORKPULSE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestTheWebAppInARealBrowser|TestTheWebAppManagesDesktopAgents|TestTheWebAppRemovesMembersKeepingOrErasingTheirData|TestTheReportsChartsAndAnEmployeesDayShowTheAPIsNumbers' ./test/system/

migrate: ## Apply migrations to DATABASE_URL (make migrate ARGS=status|down).
	$(GO) run ./migrations/cmd/migrate $(or $(ARGS),up)

fuzz: ## Run every fuzz target for FUZZTIME executions each (default 500000x).
	hack/with-deps.sh hack/fuzz.sh $(or $(FUZZTIME),500000x)

clean: ## Remove built binaries (keeps the cached Kubernetes binaries).
	rm -rf $(BIN)/devstack $(BIN)/auth $(BIN)/session $(BIN)/ingest $(BIN)/report $(BIN)/realtime $(BIN)/web $(BIN)/migrate

images: ## Build every image tarball into bin/images (workpulse/<name>:<VERSION file>), no Docker needed.
	hack/web-build.sh
	hack/docs-build.sh
	$(GO) run ./hack/images

release: ## Push every image (linux/amd64+arm64, SBOMs) and both charts to REGISTRY; digests in bin/release/values.yaml.
	hack/web-build.sh
	hack/docs-build.sh
	hack/release.sh

cluster-up: ## Start the local single-node Kubernetes cluster (root; state in /tmp/workpulse-cluster).
	hack/cluster/up.sh

cluster-down: ## Stop the local cluster and remove every trace of it.
	hack/cluster/down.sh

e2e: ## Chart, operator and services end to end on the local cluster, then cluster down.
	test/e2e/e2e.sh
