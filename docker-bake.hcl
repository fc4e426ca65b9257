# Every build this repository can do. `docker buildx bake --print` shows the resolved menu.
#
#   docker buildx bake base            the wheelhouse image (default: alpine, Python 3.13)
#   docker buildx bake base --push     ... and publish it to IMAGE
#   docker buildx bake runtime         the shared runtime services deploy on (stack in /opt/venv)
#   docker buildx bake release --push  publish both, the wheelhouse and its runtime
#   docker buildx bake base-test       install the wheels offline and serve a request, nothing kept
#   docker buildx bake lock            recompile base-image/requirements.txt on the build image
#
# Tags: IMAGE:py<PYTHON_VERSION>-<FLAVOR> moves with every publish; with TAG set, the release
# also gets the immutable IMAGE:<TAG>-py<PYTHON_VERSION>-<FLAVOR>. The runtime takes the same
# tags with a -runtime suffix. Services pin both, tag and digest (see `wheelbase pin`).

# Repository the wheelhouse is tagged and pushed as.
variable "IMAGE" {
  default = "localhost:5000/wheelbase/wheelhouse"
}

# Release name for the immutable tag (for example 2026.11.0); empty gives only the moving tag.
variable "TAG" {
  default = ""
}

# Distribution of the Python image: alpine (musl) or debian (glibc).
variable "FLAVOR" {
  default = "alpine"
}

variable "PYTHON_VERSION" {
  default = "3.13"
}

# The Python image to build on; empty derives it from FLAVOR and PYTHON_VERSION.
variable "PYTHON_IMAGE" {
  default = ""
}

# Comma-separated target platforms, for example linux/amd64,linux/arm64.
variable "PLATFORMS" {
  default = ""
}

# Packages to compile from source even where a wheel exists (pip's --no-binary).
variable "NO_BINARY" {
  default = ""
}

# Strip debug symbols from extension modules (uvloop's shrinks from 16 MB to about 2 MB).
variable "STRIP" {
  default = "true"
}

# Git commit and its time in seconds since the epoch (buildx also hands SOURCE_DATE_EPOCH to
# the build, which sets file times from it): labels and layers then depend on the commit only.
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

# The one place that says which flavors and Python versions exist, and their images.
variable "DISTRIBUTIONS" {
  default = {
    alpine = "alpine3.22"
    debian = "slim-trixie"
  }
}

variable "SUPPORTED_PYTHON_VERSIONS" {
  default = ["3.12", "3.13"]
}

# Bake cannot raise an error of its own: parseint() fails quoting this sentence instead.
function "supported" {
  params = [name, value, allowed]
  result = parseint(contains(allowed, value) ? "0" : "${name}=${value} is not supported; use one of: ${join(", ", allowed)}", 10) == 0 ? value : value
}

function "python_image" {
  params = [flavor, version]
  # lookup() never fails, so an unknown flavor is reported by supported() alone, with its sentence.
  result = "python:${version}-${lookup(DISTRIBUTIONS, flavor, "unsupported")}"
}

# The Python image the build uses: PYTHON_IMAGE when set, else derived from flavor and version.
function "resolved_python_image" {
  params = []
  result = PYTHON_IMAGE != "" ? PYTHON_IMAGE : python_image(FLAVOR, PYTHON_VERSION)
}

function "tags" {
  params = [image, tag, flavor, version, suffix]
  result = concat(
    ["${image}:py${version}-${flavor}${suffix}"],
    tag == "" ? [] : ["${image}:${tag}-py${version}-${flavor}${suffix}"],
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
    FLAVOR            = supported("FLAVOR", FLAVOR, keys(DISTRIBUTIONS))
    PYTHON_VERSION    = supported("PYTHON_VERSION", PYTHON_VERSION, SUPPORTED_PYTHON_VERSIONS)
    PYTHON_IMAGE      = resolved_python_image()
    NO_BINARY         = NO_BINARY
    STRIP             = STRIP
    REVISION          = REVISION
    VERSION           = TAG
  }
  # Labels of both published images (wheelhouse and runtime); the Dockerfile adds only their titles.
  labels = {
    "org.opencontainers.image.source"   = SOURCE_URL
    "org.opencontainers.image.revision" = REVISION
    "org.opencontainers.image.version"  = TAG
    "org.opencontainers.image.created"  = SOURCE_DATE_EPOCH != "" ? timeadd("1970-01-01T00:00:00Z", "${SOURCE_DATE_EPOCH}s") : ""
    "dev.wheelbase.flavor"              = FLAVOR
    "dev.wheelbase.python.version"      = PYTHON_VERSION
    "dev.wheelbase.python.image"        = resolved_python_image()
  }
  secret = concat(
    PIP_CERT != "" ? ["id=pip_cert,src=${PIP_CERT}"] : [],
    PIP_CONFIG_FILE != "" ? ["id=pip_conf,src=${PIP_CONFIG_FILE}"] : [],
  )
  platforms = PLATFORMS != "" ? split(",", PLATFORMS) : []
}

# Tags of the wheelhouse. In the publish workflow, docker/metadata-action's generated bake file
# redefines this target with the same tag scheme plus its OCI labels.
target "docker-metadata-action" {
  tags = tags(IMAGE, TAG, FLAVOR, PYTHON_VERSION, "")
}

# The runtime's tags; the publish workflow's second metadata-action step (bake-target runtime-meta) redefines it.
target "runtime-meta" {
  tags = tags(IMAGE, TAG, FLAVOR, PYTHON_VERSION, "-runtime")
}

# The wheelhouse image: /wheels with requirements.txt, constraints.txt and wheelhouse.json.
target "base" {
  inherits   = ["_common", "docker-metadata-action"]
  target     = "wheelhouse"
  # Provenance carries build times; without it two builds of one commit share a digest.
  attest = ["type=provenance,disabled=true"]
}

# The shared runtime: the Python image plus /opt/venv with the stack, no pip, no package manager.
target "runtime" {
  inherits = ["_common", "runtime-meta"]
  target   = "runtime"
  attest   = ["type=provenance,disabled=true"]
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
  platforms = []
  output    = ["type=local,dest=base-image"]
}
