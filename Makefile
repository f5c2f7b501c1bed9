# cogsweep: run `make help` for the targets.
GO        ?= go
BIN       := bin
PKGS      := ./...
STATICCHECK_VERSION := v0.8.2
DEADCODE_VERSION    := v0.51.0
# deadcode runs without -test, so that code only its own tests call is
# reported (it would pass with -test). Left out of its report: packages that
# only tests (and the bench) use, whose roots are test binaries; and the
# functions a real package exports for other packages' tests
# (metrics.Names and Labels, which deploy/'s test checks dashboards with).
DEADCODE_SKIP       := ^internal/(emulator|scenario|reporttest|pace/sim)/|^internal/metrics/[a-z]+\.go:.*: unreachable func: (Names|Labels)$$

.PHONY: help build demo screenshot test test-integration check bench clean image dist test-release

help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n", $$1, $$2}'

build: ## build bin/cogsweep and bin/fakecognito
	$(GO) build -buildvcs=auto -o $(BIN)/cogsweep ./cmd/cogsweep
	$(GO) build -o $(BIN)/fakecognito ./cmd/fakecognito

demo: build ## run disable, delete, then restore of one deleted user, end to end against the local fake Cognito seeded from fixtures/
	./scripts/demo.sh

screenshot: build ## docs/report.png: a demo run (interrupted, resumed) rendered by cogsweep report --html in headless Chromium
	./scripts/screenshot.sh

test: ## unit, wire-level and end-to-end tests (race detector on)
	$(GO) test -race -count=1 $(PKGS)

test-release: ## make dist's files and go install, checked as a user meets them (minutes: five cross-compiles)
	$(GO) test -count=1 -timeout 30m -tags release ./scripts/release/...

test-integration: ## tests against moto_server (and cognito-local): needs them installed
	$(GO) test -race -count=1 -tags integration ./internal/integration/...

check: ## gofmt, go vet, staticcheck, deadcode, go mod tidy diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	@out=$$($(GO) run golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION) $(PKGS)) || exit 1; \
	  out=$$(printf '%s\n' "$$out" | grep -vE '$(DEADCODE_SKIP)' | grep . || true); \
	  if [ -n "$$out" ]; then echo "unreachable from cmd/ and scripts/ (delete it, or use it):"; echo "$$out"; exit 1; fi
	@cp go.mod /tmp/go.mod.check && cp go.sum /tmp/go.sum.check && $(GO) mod tidy && \
	  if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes go.mod/go.sum"; git diff -- go.mod go.sum; \
	  cp /tmp/go.mod.check go.mod; cp /tmp/go.sum.check go.sum; exit 1; fi

# The image: no Docker, no registry (scripts/image builds it from an empty
# base). Reproducible: the binary is built -trimpath without a build id, and
# every timestamp in the image is SOURCE_DATE_EPOCH (the last commit's time).
VERSION           ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_TAG         ?= cogsweep:$(VERSION)

image: ## container image tarball dist/cogsweep-image.tar (static binary, non-root, empty base; GOARCH=arm64 for Graviton)
	@mkdir -p dist
	CGO_ENABLED=0 GOOS=linux $(GO) build -buildvcs=auto -trimpath -ldflags "-s -w -buildid= -X github.com/cogsweep/cogsweep/internal/cli.Version=$(VERSION)" -o dist/cogsweep ./cmd/cogsweep
	# The image tool runs here: GOARCH=arm64 is the binary's, not the tool's.
	GOOS=$$($(GO) env GOHOSTOS) GOARCH=$$($(GO) env GOHOSTARCH) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./scripts/image --binary dist/cogsweep --out dist/cogsweep-image.tar --tag $(IMAGE_TAG) --version $(VERSION)

dist: ## release binaries (linux, darwin: amd64, arm64; windows/amd64), SHA256SUMS and a CycloneDX SBOM in dist/
	GO=$(GO) ./scripts/dist.sh

bench: build ## the side-by-side benchmark table (docs/benchmarks.md)
	./scripts/bench.sh

clean: ## remove build output and demo files
	rm -rf $(BIN) .demo dist
