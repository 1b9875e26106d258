# The project's commands. Everything installs what it needs: a machine with Go
# and npm is enough (AWS credentials only for deploy/diff/destroy).
#
#   make local          the whole system on this machine (site :8080, API :3000;
#                       API=host:port and SITE=host:port to move them)
#   make test           every test: Go (unit, snapshot, local stack, browser), JS
#                       (GOTESTFLAGS=... adds go test flags, e.g. -count=3 or -run X)
#   make synth          synthesize every environment into cdk.out
#   make local-synth    the synth make local runs: dev only, prebuilt app, faster
#   make bootstrap ENV=dev  once per environment, as an administrator: its own CDK bootstrap
#   make diff ENV=prod  compare with what is deployed
#   make deploy ENV=dev deploy one environment
#   make bench          benchmarks and measurements

SHELL := bash
# GNU Make 3.81 (macOS's) ignores .SHELLFLAGS; no recipe relies on it.
.SHELLFLAGS := -eu -o pipefail -c
ENV ?= dev
# deploy asks before widening IAM or security groups; CI, gated by GitHub
# environment reviewers, sets APPROVAL=never.
APPROVAL ?= broadening
OUTPUTS ?= cdk-outputs.json
# Where deploy, diff and bootstrap synthesize to. The deploy-path test
# (test/deploy) gives its own, so it never touches the cdk.out make local serves.
CDK_OUT ?= cdk.out
# change-set creates and executes a change set; prepare-change-set only
# creates it (the deploy-path test, which must not execute against moto).
DEPLOY_METHOD ?= change-set

# A supported Node (>= 22) and the CDK CLI come from package.json. jsii (spawned
# by every Go program that uses CDK, tests included) and cdk find them first.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := true

NODE_DEPS := node_modules/.installed

.PHONY: all deps local local-synth test synth bootstrap diff deploy destroy bench ci-roles
all: test

# node_modules holds a few .go files (CDK's init templates); a go.mod there makes
# it a module of its own, so ./... does not descend into it. No install script
# runs (--ignore-scripts): what a package installs is what its tarball, checked
# against package-lock.json's integrity, holds (Node included, from its
# platform's package); none of ours needs one (a linter's dependency would
# only send install analytics).
$(NODE_DEPS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	printf 'module node_modules\n' > node_modules/go.mod
	touch $@

# The React example's own packages (examples/react: Vite, react-oidc-context,
# openapi-fetch), which its browser test builds and runs; a go.mod keeps
# ./... out of them too.
EXAMPLE_DEPS := examples/react/node_modules/.installed
$(EXAMPLE_DEPS): examples/react/package.json examples/react/package-lock.json $(NODE_DEPS)
	cd examples/react && npm ci --ignore-scripts --no-audit --no-fund
	printf 'module node_modules\n' > examples/react/node_modules/go.mod
	touch $@

# Everything installed and compiled, so that a CI job downloads and builds
# before it holds AWS credentials.
deps: $(NODE_DEPS)
	go mod download
	go build ./...

# Where make local serves (e.g. make local API=localhost:3001 when a front-end
# dev server has :3000). A site elsewhere than :8080 is allowed in dev's
# place of http://localhost:8080 (cdk.json) in what is served.
API ?= localhost:3000
SITE ?= localhost:8080
# The local sign-in, when dev has "auth": "cognito".
SIGNIN ?= localhost:8088

# Synthesize dev, then serve exactly that: the API from its template through the
# Lambda runtime emulator, the site with CloudFront's headers. The synth runs
# only when one of its inputs changed since the last one; while serving, saving
# a Go file reloads the function and a change to the app synthesizes again.
local: $(NODE_DEPS)
	@$(MAKE) --no-print-directory -q $(LOCAL_STAMP) 2>/dev/null \
	  && echo "make local: cdk.out is up to date with the app, cdk.json and site/: no synth" \
	  || $(MAKE) --no-print-directory $(LOCAL_STAMP)
	@[ -x bin/local ] || echo "make local: building the local runner (about a minute the first time)"
	@go build -o bin/local ./cmd/local
	@bin/local -assembly cdk.out -env dev -api '$(API)' -site '$(SITE)' -signin '$(SIGNIN)' -synth '$(MAKE) --no-print-directory local-synth'

# The synth make local runs: only its environment, from a binary of the app
# that Make rebuilds when a Go source or the model changes (instead of
# cdk.json's `go run .`), and without the CLI's template validation, which
# make synth, the tests and PR review keep. About half of make synth's time
# (make bench measures both). The guards and cdk-nag still fail it.
APP_BIN := bin/app
LOCAL_STAMP := cdk.out/.local-dev
# Pruned, not filtered: node_modules and cdk.out hold thousands of files, and
# make reads this list at every call.
GO_SOURCES := $(shell find . \( -path ./node_modules -o -path ./cdk.out -o -path ./.git -o -path ./bin \) -prune -o -name '*.go' -not -name '*_test.go' -print)
$(APP_BIN): $(GO_SOURCES) go.mod go.sum functions/predict/model.json
	go build -o $@ .

local-synth: $(NODE_DEPS) $(APP_BIN)
	cdk synth 'dev/*' -c env=dev --quiet --app $(APP_BIN) --no-validation
	@touch $(LOCAL_STAMP)

# The inputs of the synthesis: the app (every Go source, through its binary),
# cdk.json, and site/ (its files become assets).
$(LOCAL_STAMP): $(APP_BIN) cdk.json $(shell find site -type f)
	@$(if $(wildcard $@),echo "make local: synthesizing dev ($(words $?) input(s) changed since the last synth)",echo "make local: synthesizing dev for the first time: building the CDK app takes several minutes on a first run; seconds after that")
	@$(MAKE) --no-print-directory local-synth

# macOS: only the emulator has code of its own per OS (internal/emulator/rie),
# and only it, testtool, cmd/local and the deploy-path test call syscall, so
# vetting them for both Macs covers the rest, which compiles the same
# everywhere (test/repository keeps that list true); vetting ./... there
# compiled all of AWS CDK twice more for nothing. The Lambda runtime
# emulator (a tool dependency) builds for both.
DARWIN_VET := ./internal/emulator/... ./internal/testtool ./cmd/local ./test/deploy
RIE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

# Go tests run last, through gotestsum (a tool dependency): its summary ends
# the output and lists what was skipped and why, e.g. the browser tests on a
# machine without Chromium, with how to enable them. -race costs ~10 s warm.
test: $(NODE_DEPS) $(EXAMPLE_DEPS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@go mod tidy -diff >/dev/null || { echo "go.mod or go.sum is not tidy: run go mod tidy (the diff: go mod tidy -diff)"; exit 1; }
	@echo "make test: vetting; a first run compiles AWS CDK's Go bindings here and for the tests (several minutes on 2 cores), later runs take seconds"
	go vet ./...
	GOOS=darwin GOARCH=arm64 go vet $(DARWIN_VET)
	GOOS=darwin GOARCH=amd64 go vet $(DARWIN_VET)
	GOOS=darwin GOARCH=arm64 go build -o /dev/null $(RIE)
	GOOS=darwin GOARCH=amd64 go build -o /dev/null $(RIE)
	node --test 'site/*.test.js'
	go tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- -race $(GOTESTFLAGS) ./...

bench: $(NODE_DEPS)
	go run ./cmd/bench

synth: $(NODE_DEPS)
	cdk synth '**' --quiet

# DIFF_METHOD=template compares templates only, with read access to the
# deployed stacks (CI's diff role); auto also creates a change set.
DIFF_METHOD ?= auto
diff: $(NODE_DEPS)
	cdk diff '$(ENV)/*' -c env=$(ENV) --method=$(DIFF_METHOD) -o $(CDK_OUT)

# Once per environment, by an administrator, before its first deploy: the
# environment's own CDK bootstrap (its qualifier from cdk.json: asset bucket,
# publishing role, a deploy role limited to its stacks, an execution role
# with the project's policy, the environment's own permissions boundary;
# cmd/bootstrap), then API Gateway's logging role, one per account and region
# (the account-* Stage, stacks/account.go), with the administrator's own
# credentials: no environment's roles may change what all share. TRUST=id
# lets the CI of another account deploy (an environment in an account of
# its own). One synth serves both.
TRUST ?=
bootstrap: $(NODE_DEPS)
	cdk synth 'account-*/*' '$(ENV)/*' -c env=$(ENV) --quiet -o $(CDK_OUT)
	go run ./cmd/bootstrap -env '$(ENV)' -app $(CDK_OUT) $(foreach a,$(TRUST),-trust $(a))
	cdk deploy --app $(CDK_OUT) 'account-*/*' --require-approval $(APPROVAL) --method=$(DEPLOY_METHOD)

# Deploys the environment's stacks only, through its own bootstrap roles.
deploy: $(NODE_DEPS)
	cdk synth '$(ENV)/*' -c env=$(ENV) --quiet -o $(CDK_OUT)
	cdk deploy --app $(CDK_OUT) '$(ENV)/*' --require-approval $(APPROVAL) --method=$(DEPLOY_METHOD) --outputs-file $(OUTPUTS)

# Once per account, by an administrator: the roles the GitHub workflows
# assume (no long-lived keys), one deploy role per environment, trusted from
# BRANCH of the repository REPO whose number is REPO_ID only.
BRANCH ?= main
ci-roles: $(NODE_DEPS)
	@[ -n "$(REPO)" ] && [ -n "$(REPO_ID)" ] || { echo "usage: make ci-roles REPO=owner/name REPO_ID=<gh api repos/owner/name --jq .id> [BRANCH=main]"; exit 2; }
	cdk deploy 'ci/*' -c ciRepository=$(REPO) -c ciRepositoryId=$(REPO_ID) -c ciBranch=$(BRANCH) --require-approval $(APPROVAL)

destroy: $(NODE_DEPS)
	cdk destroy '$(ENV)/*' -c env=$(ENV)
