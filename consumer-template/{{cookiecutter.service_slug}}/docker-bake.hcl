# Builds of {{ cookiecutter.service_name }}. `docker buildx bake --print` shows them resolved.
#
#   docker buildx bake           test, then the image
#   docker buildx bake test      pytest, pylint and bandit inside the build; nothing kept
#   docker buildx bake image     the deploy image, tagged IMAGE:TAG
#   docker buildx bake lock      recompile requirements*.txt against the wheelhouse's pins
#                                (`wheelbase lock` also keeps the Dockerfile's EXTRAS right)
# compose.yaml builds the Dockerfile's `dev` target for `docker compose up --watch`.

variable "IMAGE" {
  default = "{{ cookiecutter.service_slug }}"
}

variable "TAG" {
  default = "dev"
}

# Empty: use the pins in the Dockerfile (kept by `wheelbase pin` and Renovate).
variable "BASE_IMAGE" {
  default = ""
}

{%- if cookiecutter.deploy_on == "runtime" %}
variable "RUNTIME_IMAGE" {
  default = ""
}
{% endif %}
variable "PYTHON_IMAGE" {
  default = ""
}

# `UPGRADE=true docker buildx bake lock` re-resolves every pin; otherwise a lock keeps its pins
# and changes only what requirements*.in asks for.
variable "UPGRADE" {
  default = "false"
}

# pip's own variables, read from the environment; they reach pip as optional build secrets.
variable "PIP_CERT" {
  default = ""
}

variable "PIP_CONFIG_FILE" {
  default = ""
}

group "default" {
  targets = ["test", "image"]
}

target "_common" {
  context = "."
  args = {
    BASE_IMAGE    = BASE_IMAGE != "" ? BASE_IMAGE : null
{%- if cookiecutter.deploy_on == "runtime" %}
    RUNTIME_IMAGE = RUNTIME_IMAGE != "" ? RUNTIME_IMAGE : null
{%- endif %}
    PYTHON_IMAGE  = PYTHON_IMAGE != "" ? PYTHON_IMAGE : null
  }
  secret = concat(
    PIP_CERT != "" ? ["id=pip_cert,src=${PIP_CERT}"] : [],
    PIP_CONFIG_FILE != "" ? ["id=pip_conf,src=${PIP_CONFIG_FILE}"] : [],
  )
}

target "test" {
  inherits = ["_common"]
  target   = "test"
  output   = ["type=cacheonly"]
}

target "image" {
  inherits = ["_common"]
  target   = "deploy"
  tags     = ["${IMAGE}:${TAG}"]
}

target "lock" {
  inherits = ["_common"]
  target   = "lock"
  args     = { UPGRADE = UPGRADE }
  # An upgrade resolves anew each time, never a layer-cache hit handing back the last one's pins.
  no-cache-filter = UPGRADE == "true" ? ["lock-resolve"] : []
  output   = ["type=local,dest=."]
}
