# The floor a service build is measured against: the same runtime, the app copied in, a user set;
# nothing checked, nothing installed.
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
WORKDIR /srv
COPY app/ app/
USER 10001:10001
