# Local development on a machine like CI's: the debian flavor on the stand-in Python image that
# .ci/provision builds from Debian packages (this kind of machine reaches neither Docker Hub nor
# Alpine's mirrors). On a connected machine, `docker buildx bake base` builds the alpine default.

include .ci/standins.env
export FLAVOR ?= debian
export PYTHON_IMAGE ?= $(STANDIN_PYTHON_IMAGE)
export IMAGE ?= localhost:5000/wheelbase/wheelhouse
export PYTHON_VERSION ?= $(STANDIN_PYTHON_VERSION)
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
export REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: setup setup-unit setup-engine setup-tests wheelhouse unit test bench lock-tools
.DEFAULT_GOAL := wheelhouse

# What the main job needs: engine, registry, the trixie stand-in, the wheelbase CLI.
setup:
	bash .ci/provision

# What the tests without an engine need: the package with its dev tools, and actionlint.
setup-unit:
	bash .ci/provision unit

# Also what the end-to-end tests of the engine tier need (the bookworm stand-in, linters, wrk).
setup-engine:
	bash .ci/provision engine

# Also what only the slow tier and the benchmark need (the arm64 and musl stand-ins).
setup-tests:
	bash .ci/provision tests

# Build, test and publish the wheelhouse and its runtime to the local registry, then print their pins.
wheelhouse: setup
	docker buildx bake release --push
	.venv/bin/wheelbase resolve

# Lint and the tests that need no engine: what the repository's `unit` CI job runs. They run on
# both cores (pytest-xdist) and with the engine out of reach, so a test that needs one fails here.
UNIT_TESTS = DOCKER_HOST=unix:///nonexistent/no-engine.sock .venv/bin/pytest -m "not e2e" -n 2
unit: setup-unit
	$(UNIT_TESTS)

# Everything: the unit tier as `make unit` runs it, then the end-to-end tests on the real engine and
# registry, on both cores: each module on one worker (its module-scoped builds made once), in collection
# order, so the slow tier runs last, while its stand-ins (`.ci/provision tests`) build in the background.
# Ends with the 30 slowest tests (docs/benchmarks.md has a table).
test: setup-engine
	$(UNIT_TESTS)
	.venv/bin/pytest -m e2e -n 2 --dist loadscope --no-loadscope-reorder --durations=30

# Build speed, image size and serving speed against the plain way; writes docs/benchmarks.{md,png}.
# BENCH_ARGS=--quick runs each measurement once (CI does, into a scratch folder).
bench: setup-tests
	.venv/bin/wheelbase bench $(BENCH_ARGS)

# Re-lock the tools the stages install, hash-checked: pip-tools for the lock stages (build/, shipped
# in the wheelhouse for services' locks too), and what fetch and build run under (tools.txt).
lock-tools: setup-tests
	cd base-image && for tools in build/lock-tools tools; do \
		CUSTOM_COMPILE_COMMAND="make lock-tools" ../.venv/bin/pip-compile --quiet --generate-hashes \
			--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o $$tools.txt $$(basename $$tools).in || exit 1; \
	done
