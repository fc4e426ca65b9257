# Every build this repository can do. `docker buildx bake --print` shows the resolved menu.
#
#   docker buildx bake base            the wheelhouse image (default: alpine, the newest Python)
#   docker buildx bake base --push     ... and publish it to IMAGE
#   docker buildx bake runtime         the shared runtime services deploy on (stack in /opt/venv)
#   docker buildx bake release --push  publish both, the wheelhouse and its runtime
#   docker buildx bake base-test       install the wheels offline and serve a request, nothing kept
#   docker buildx bake lock            recompile base-image/requirements.txt on the build image
#
# Tags: IMAGE:py<PYTHON_VERSION>-<FLAVOR> moves with every publish; with TAG set, the release
# also gets the immutable IMAGE:<TAG>-py<PYTHON_VERSION>-<FLAVOR>. The runtime takes the same
# tags with runtime_suffix() appended, which both images carry as a label, so a tool finds a
# wheelhouse's runtime without knowing the rule. Services pin both, tag and digest (see `wheelbase pin`).

# Repository the wheelhouse is tagged and pushed as (lower-cased: registries want it so).
variable "IMAGE" {
  default = "localhost:5000/wheelbase/wheelhouse"
}

# Release name for the immutable tag (for example 2026.11.0); empty gives only the moving tag.
variable "TAG" {
  default = ""
}

# One of FLAVORS below.
variable "FLAVOR" {
  default = "alpine"
}

# One of PYTHON_VERSIONS below: by default the newest CPython for which every locked package
# ships wheels for linux/amd64 and linux/arm64 (tests/e2e/test_bake_definition.py checks each).
variable "PYTHON_VERSION" {
  default = "3.15"
}

# The Python image to build on; empty derives it from FLAVOR and PYTHON_VERSION. A release pins
# it by digest (the publish workflow resolves the floating tag first and passes tag@digest).
variable "PYTHON_IMAGE" {
  default = ""
}

# Comma-separated target platforms, for example linux/amd64,linux/arm64.
variable "PLATFORMS" {
  default = ""
}

# `UPGRADE=true docker buildx bake lock` re-resolves every pin; otherwise the lock keeps its pins
# and changes only what requirements.in asks for.
variable "UPGRADE" {
  default = "false"
}

# Packages to compile from source even where a wheel exists (pip's --no-binary).
variable "NO_BINARY" {
  default = ""
}

# Strip debug symbols from extension modules (uvloop's wheel shrinks from 4.5 MB to 0.8 MB).
variable "STRIP" {
  default = "true"
}

# Git commit and its time in seconds since the epoch (the build sets file times from it; see
# _common's args): labels and layers then depend on the commit only.
variable "REVISION" {
  default = ""
}

variable "SOURCE_DATE_EPOCH" {
  default = ""
}

# pip's own variables, read from the environment: a proxy CA bundle and a pip.conf (private
# index credentials). They reach pip as optional build secrets, never a layer or a build arg.
variable "PIP_CERT" {
  default = ""
}

variable "PIP_CONFIG_FILE" {
  default = ""
}

variable "SOURCE_URL" {
  default = "https://github.com/wheelbase/wheelbase"
}

# The one place that says which flavors exist. A flavor is a distribution (its package manager:
# base-image/toolchain/<distribution>.sh) and a libc, and the suffix of the official python image
# tag it builds on: `alpine` floats to the newest Alpine the official images maintain (today
# 3.24), `slim-trixie` stays on Debian 13. debian-musl is a musl CPython on a Debian userland,
# which has no official image (PYTHON_IMAGE must name one): CI's stand-in for the musl path.
variable "FLAVORS" {
  default = {
    alpine      = { distribution = "alpine", libc = "musl", image = "alpine" }
    debian      = { distribution = "debian", libc = "glibc", image = "slim-trixie" }
    debian-musl = { distribution = "debian", libc = "musl", image = "" }
  }
}

# The one place that says which Python versions are supported.
variable "PYTHON_VERSIONS" {
  default = ["3.12", "3.13", "3.14", "3.15"]
}

# Bake cannot raise an error of its own: parseint() fails quoting this sentence instead.
function "fail" {
  params = [sentence]
  result = parseint(sentence, 10)
}

function "supported" {
  params = [name, value, allowed]
  result = contains(allowed, value) ? value : fail("${name}=${value} is not supported; use one of: ${join(", ", allowed)}")
}

function "flavor" {
  params = []
  result = FLAVORS[supported("FLAVOR", FLAVOR, keys(FLAVORS))]
}

# The Python image the build uses: PYTHON_IMAGE when set, else the official image for the flavor.
function "python_image" {
  params = []
  result = PYTHON_IMAGE != "" ? PYTHON_IMAGE : (
    flavor().image != "" ? "python:${supported("PYTHON_VERSION", PYTHON_VERSION, PYTHON_VERSIONS)}-${flavor().image}"
    : fail("FLAVOR=${FLAVOR} has no official Python image; set PYTHON_IMAGE (for example localhost/python:3.13-musl)"))
}

# The interface a wheelhouse's build steps (/wheels/build/step.py) and its runtime's serving
# commands (wheelbase-serve, wheelbase-health) speak to a service's Dockerfile, which declares the
# one it was written for (ARG WHEELBASE_INTERFACE): a service builds on any release of its interface,
# and a release of another stops its first step naming both. Raised only when a release changes a
# step, its arguments or paths, or a serving command or setting, incompatibly. A function, not a
# variable: no build chooses it.
function "interface" {
  params = []
  result = "1"
}

# What the runtime's tags add to the wheelhouse's.
function "runtime_suffix" {
  params = []
  result = "-runtime"
}

function "tags" {
  params = [suffix]
  result = concat(
    ["${lower(IMAGE)}:py${PYTHON_VERSION}-${FLAVOR}${suffix}"],
    TAG == "" ? [] : ["${lower(IMAGE)}:${TAG}-py${PYTHON_VERSION}-${FLAVOR}${suffix}"],
  )
}

group "default" {
  targets = ["base"]
}

group "release" {
  targets = ["base", "runtime"]
}

target "_common" {
  context    = "base-image"
  dockerfile = "Dockerfile"
  args = {
    FLAVOR         = supported("FLAVOR", FLAVOR, keys(FLAVORS))
    DISTRIBUTION   = flavor().distribution
    LIBC           = flavor().libc
    PYTHON_VERSION = supported("PYTHON_VERSION", PYTHON_VERSION, PYTHON_VERSIONS)
    PYTHON_IMAGE   = python_image()
    NO_BINARY      = NO_BINARY
    STRIP          = STRIP
    REVISION       = REVISION
    # File times, wheel entries and bytecode are dated from it; the epoch when unset, so any two
    # builds of the same inputs are byte-identical, not only the publish workflow's.
    SOURCE_DATE_EPOCH   = SOURCE_DATE_EPOCH != "" ? SOURCE_DATE_EPOCH : "0"
    WHEELBASE_INTERFACE = interface()
  }
  # Labels of both published images, from inputs only (the commit, its time, the Python image),
  # so a publish that changes nothing gives the same digests. The Dockerfile adds their titles.
  labels = {
    "org.opencontainers.image.source"   = SOURCE_URL
    "org.opencontainers.image.revision" = REVISION
    "org.opencontainers.image.created"  = SOURCE_DATE_EPOCH != "" ? timeadd("1970-01-01T00:00:00Z", "${SOURCE_DATE_EPOCH}s") : ""
    "dev.wheelbase.flavor"              = FLAVOR
    "dev.wheelbase.python.version"      = PYTHON_VERSION
    "dev.wheelbase.python.image"        = python_image()
    "dev.wheelbase.interface"           = interface()
    "dev.wheelbase.runtime.tag-suffix"  = runtime_suffix()
  }
  secret = concat(
    PIP_CERT != "" ? ["id=pip_cert,src=${PIP_CERT}"] : [],
    PIP_CONFIG_FILE != "" ? ["id=pip_conf,src=${PIP_CONFIG_FILE}"] : [],
  )
  platforms = PLATFORMS != "" ? split(",", PLATFORMS) : []
  # Provenance carries build times; without it two builds of one commit share a digest. The
  # publish workflow attests provenance beside the image instead (actions/attest-build-provenance).
  attest = ["type=provenance,disabled=true"]
}

# The wheelhouse image: /wheels with requirements.txt, constraints.txt and wheelhouse.json.
target "base" {
  inherits = ["_common"]
  target   = "wheelhouse"
  tags     = tags("")
}

# The shared runtime: the Python image plus /opt/venv with the stack and wheelbase-serve, no pip,
# no package manager.
target "runtime" {
  inherits = ["_common"]
  target   = "runtime"
  tags     = tags(runtime_suffix())
}

# Install and serve from the wheels without keeping an image.
target "base-test" {
  inherits = ["_common"]
  target   = "test"
  output   = ["type=cacheonly"]
}

# Recompile base-image/requirements.txt with pip-compile on the build image itself.
target "lock" {
  inherits  = ["_common"]
  target    = "lock"
  args      = { UPGRADE = UPGRADE }
  # An upgrade resolves anew each time, never a layer-cache hit handing back the last one's pins.
  no-cache-filter = UPGRADE == "true" ? ["lock-resolve"] : []
  platforms = []
  output    = ["type=local,dest=base-image"]
}
