# Local development on a machine like CI's: the debian flavor on the stand-in Python image that
# .ci/provision builds from Debian packages (this kind of machine reaches neither Docker Hub nor
# Alpine's mirrors). On a connected machine, `docker buildx bake base` builds the alpine default.

STANDIN_PYTHON_IMAGE := localhost/python:3.13-slim-trixie
export FLAVOR ?= debian
export PYTHON_IMAGE ?= $(STANDIN_PYTHON_IMAGE)
export IMAGE ?= localhost:5000/wheelbase/wheelhouse
export PYTHON_VERSION ?= 3.13
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
export REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: setup wheelhouse test bench lock-tools
.DEFAULT_GOAL := wheelhouse

setup:
	bash .ci/provision

# Build, test and publish the wheelhouse and its runtime to the local registry, then print their pins.
wheelhouse: setup
	docker buildx bake release --push
	.venv/bin/wheelbase resolve "$(IMAGE):py$(PYTHON_VERSION)-$(FLAVOR)"
	.venv/bin/wheelbase resolve "$(IMAGE):py$(PYTHON_VERSION)-$(FLAVOR)-runtime"

# Everything: lint, unit tests and the end-to-end tests on the real engine and registry.
test: setup
	.venv/bin/pytest

# Build speed, image size and serving speed against the plain way; writes docs/benchmarks.{md,png}.
# BENCH_ARGS=--quick runs each measurement once (CI does, into a scratch folder).
bench: setup
	.venv/bin/wheelbase bench $(BENCH_ARGS)

# Re-lock pip-tools (and wheel, for stripping) for the lock and build stages; the template carries a copy.
lock-tools: setup
	cd base-image && CUSTOM_COMPILE_COMMAND="make lock-tools" ../.venv/bin/pip-compile --quiet --generate-hashes \
		--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o lock-tools.txt lock-tools.in
	cp base-image/lock-tools.txt "consumer-template/{{cookiecutter.service_slug}}/docker/lock-tools.txt"
