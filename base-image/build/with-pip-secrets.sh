#!/bin/sh
# Runs a command with pip's optional BuildKit secrets in its environment: a proxy CA bundle
# (PIP_CERT) and a pip.conf with private index credentials (PIP_CONFIG_FILE), mounted by the RUN
# step as /run/secrets/pip_cert and /run/secrets/pip_conf. Without them the command runs as is.
# Shipped in the wheelhouse as /wheels/build/with-pip-secrets.sh: services' steps run pip through it.
if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi
if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi
exec "$@"
