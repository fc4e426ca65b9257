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

# One of PYTHON_VERSIONS below; empty (the default) is the newest of them.
variable "PYTHON_VERSION" {
  default = ""
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

# The one place that says which Python series are supported, oldest first, as a comma-separated
# list (bake takes only strings from the environment). The publish workflow publishes every one of
# them for every flavor in PUBLISHED_FLAVORS, every week.
variable "PYTHON_VERSIONS" {
  default = "3.12,3.13,3.14,3.15"
}

# The flavors the publish workflow publishes (debian-musl has no official Python image), and the
# machines it builds each on (each on a runner of its own machine).
variable "PUBLISHED_FLAVORS" {
  default = "alpine,debian"
}

variable "PUBLISHED_PLATFORMS" {
  default = "linux/amd64,linux/arm64"
}

# A series on its way out, as JSON: {"3.12": "2027-03-31"}, the last day it is published. Its
# releases carry that date (label dev.wheelbase.retiring), so services pinned to it are told by
# `wheelbase pin --check` and shown the newest series; only after that day does it leave
# PYTHON_VERSIONS. How a series is retired: docs/publishing.md.
variable "RETIRING" {
  default = "{}"
}

# Upstream's end of life of each series, as JSON ({"3.12": "2028-10"}): the publish workflow reads
# it from python.org's release-cycle data at publish time. Empty: not known (a local build).
variable "PYTHON_END_OF_LIFE" {
  default = ""
}

# Python images other than the official ones, by flavor and series, as JSON
# ({"debian:3.13": "registry.example/python:3.13-slim-trixie"}): a mirror, or CI's stand-ins.
variable "PYTHON_IMAGES" {
  default = "{}"
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

# A JSON variable's value; empty (an unset repository variable passed on) is none.
function "json" {
  params = [value]
  result = jsondecode(value != "" ? value : "{}")
}

function "versions" {
  params = []
  result = split(",", PYTHON_VERSIONS)
}

# The newest supported series: what a build without PYTHON_VERSION builds, and what a service on a
# retiring series is told to move to.
function "newest" {
  params = []
  result = versions()[length(versions()) - 1]
}

function "python_version" {
  params = []
  result = PYTHON_VERSION != "" ? supported("PYTHON_VERSION", PYTHON_VERSION, versions()) : newest()
}

function "flavor" {
  params = [name]
  result = FLAVORS[supported("FLAVOR", name, keys(FLAVORS))]
}

# A flavor and series's Python image: PYTHON_IMAGES's, else the official one.
function "python_image_for" {
  params = [name, version]
  result = contains(keys(json(PYTHON_IMAGES)), "${name}:${version}") ? json(PYTHON_IMAGES)["${name}:${version}"] : (
    flavor(name).image != "" ? "python:${supported("PYTHON_VERSION", version, versions())}-${flavor(name).image}"
    : fail("FLAVOR=${name} has no official Python image; set PYTHON_IMAGE (for example localhost/python:3.13-musl)"))
}

# The Python image this build uses: PYTHON_IMAGE when set (a release pins it by digest).
function "python_image" {
  params = []
  result = PYTHON_IMAGE != "" ? PYTHON_IMAGE : python_image_for(FLAVOR, python_version())
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
  params = [name, version, suffix]
  result = concat(
    ["${lower(IMAGE)}:py${version}-${name}${suffix}"],
    TAG == "" ? [] : ["${lower(IMAGE)}:${TAG}-py${version}-${name}${suffix}"],
  )
}

# The labels of both published images of a flavor and series: from inputs only (the commit, its
# time, the Python image, the series' dates), so a publish that changes nothing gives the same digests.
function "labels" {
  params = [name, version, image]
  result = {
    "org.opencontainers.image.source"   = SOURCE_URL
    "org.opencontainers.image.revision" = REVISION
    "org.opencontainers.image.created"  = SOURCE_DATE_EPOCH != "" ? timeadd("1970-01-01T00:00:00Z", "${SOURCE_DATE_EPOCH}s") : ""
    "dev.wheelbase.flavor"              = name
    "dev.wheelbase.python.version"      = version
    "dev.wheelbase.python.image"        = image
    "dev.wheelbase.interface"           = interface()
    "dev.wheelbase.runtime.tag-suffix"  = runtime_suffix()
    "dev.wheelbase.python.end-of-life"  = lookup(json(PYTHON_END_OF_LIFE), version, "")
    "dev.wheelbase.retiring"            = lookup(json(RETIRING), version, "")
    # The moving tag a service on this series moves to when it retires: the newest series's.
    "dev.wheelbase.successor"           = version == newest() ? "" : "py${newest()}-${name}"
  }
}

group "default" {
  targets = ["base"]
}

group "release" {
  targets = ["base", "runtime"]
}

# What every build shares, whatever its flavor and series.
target "_build" {
  context    = "base-image"
  dockerfile = "Dockerfile"
  args = {
    NO_BINARY = NO_BINARY
    STRIP     = STRIP
    REVISION  = REVISION
    # File times, wheel entries and bytecode are dated from it; the epoch when unset, so any two
    # builds of the same inputs are byte-identical, not only the publish workflow's.
    SOURCE_DATE_EPOCH   = SOURCE_DATE_EPOCH != "" ? SOURCE_DATE_EPOCH : "0"
    WHEELBASE_INTERFACE = interface()
  }
  secret = concat(
    PIP_CERT != "" ? ["id=pip_cert,src=${PIP_CERT}"] : [],
    PIP_CONFIG_FILE != "" ? ["id=pip_conf,src=${PIP_CONFIG_FILE}"] : [],
  )
  # Provenance carries build times; without it two builds of one commit share a digest. The
  # publish workflow attests provenance beside the image instead (actions/attest).
  attest = ["type=provenance,disabled=true"]
}

# A flavor and series's build arguments.
function "series_args" {
  params = [name, version, image]
  result = {
    FLAVOR         = supported("FLAVOR", name, keys(FLAVORS))
    DISTRIBUTION   = flavor(name).distribution
    LIBC           = flavor(name).libc
    PYTHON_VERSION = supported("PYTHON_VERSION", version, versions())
    PYTHON_IMAGE   = image
  }
}

# The build FLAVOR and PYTHON_VERSION name. The Dockerfile adds each image's title.
target "_common" {
  inherits  = ["_build"]
  args      = series_args(FLAVOR, python_version(), python_image())
  labels    = labels(FLAVOR, python_version(), python_image())
  platforms = PLATFORMS != "" ? split(",", PLATFORMS) : []
}

# The wheelhouse image: /wheels with requirements.txt, constraints.txt and wheelhouse.json.
target "base" {
  inherits = ["_common"]
  target   = "wheelhouse"
  tags     = tags(FLAVOR, python_version(), "")
}

# The shared runtime: the Python image plus /opt/venv with the stack and wheelbase-serve, no pip,
# no package manager.
target "runtime" {
  inherits = ["_common"]
  target   = "runtime"
  tags     = tags(FLAVOR, python_version(), runtime_suffix())
}

# Every series of every published flavor: what the publish workflow publishes each week.
# `docker buildx bake --print series` lists them; the workflow's prepare job reads its matrix here.
target "series" {
  name      = "series-${f}-${replace(v, ".", "-")}"
  matrix    = { f = split(",", PUBLISHED_FLAVORS), v = versions() }
  inherits  = ["_build"]
  target    = "wheelhouse"
  args      = series_args(f, v, python_image_for(f, v))
  labels    = labels(f, v, python_image_for(f, v))
  tags      = tags(f, v, "")
  platforms = split(",", PUBLISHED_PLATFORMS)
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
