# The comparison: the plain way, without a wheelhouse. The same requirements and app on the
# same Python image, installed with `pip install -r` from the index into a venv with pip inside.
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=secret,id=pip_cert,target=/run/secrets/pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    pip install --no-cache-dir -r /tmp/requirements.txt
WORKDIR /srv
COPY app/ app/
USER 10001:10001
CMD ["sh", "-c", "exec uvicorn app.main:app --host 0.0.0.0 --port \"${PORT:-8000}\" --loop uvloop --http httptools"]
