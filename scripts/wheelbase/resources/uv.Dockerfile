# The modern peer: astral-sh/uv-docker-example's multistage pattern with the same hash-locked pins.
# uv comes from PyPI (its image registry is out of reach here), installed in the builder stage;
# the venv is built with bytecode and copied into the final stage, as the example does.
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN --mount=type=secret,id=pip_cert,target=/run/secrets/pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    python -m pip install --no-cache-dir "uv==${UV_VERSION}"
RUN --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    --mount=type=secret,id=pip_cert,target=/run/secrets/pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export SSL_CERT_FILE=/run/secrets/pip_cert; fi; \
    uv venv /opt/venv \
    && uv pip install --python /opt/venv/bin/python --no-cache --require-hashes -r /tmp/requirements.txt

FROM ${PYTHON_IMAGE}
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /srv
COPY app/ app/
USER 10001:10001
CMD ["sh", "-c", "exec uvicorn app.main:app --host 0.0.0.0 --port \"${PORT:-8000}\" --loop uvloop --http httptools"]
