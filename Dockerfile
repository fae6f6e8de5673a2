# A small image running `gateway serve` as a non-root user, uid 10001.
# Configuration and store live on the /data volume, a directory written on the host by
#   gateway init net --name alpha --host 0.0.0.0 --port 8080 --public-url https://ap.example.com
# and mounted with
#   docker run --user "$(id -u)" -v "$PWD/net:/data" -p 8080:8080 einvoice-gateway
# README.md ("Docker") says why --user; compose.yaml runs the gateway with Redis.
#
# Debian packages are not pinned to versions (hadolint DL3008, ignored below): the
# python:3.11-slim tag follows Debian's point and security releases, and the mirror drops
# a package's old version when it publishes the new one, so a pinned version stops
# installing within weeks. The base image's tag fixes the Debian release instead.
FROM python:3.11-slim AS build
# A C compiler for the build stage only: the rules are compiled with mypyc
# (setup.py); the runtime image gets the wheel, not the compiler.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY gateway ./gateway
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# DejaVu fonts: the print channel draws Latin, Greek and Cyrillic names with them.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /data gateway \
    && mkdir -p /data && chown gateway /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Checks that the user can read and write /data, and says what to run when not.
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/gateway-entrypoint
# Numeric, so that the runtime (and Kubernetes' runAsNonRoot) sees a non-root uid.
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENV GATEWAY_CONFIG=/data/gateway.toml
# `gateway health` asks /healthz on network.listen_port of the configuration, so a
# gateway configured on another port is still checked where it listens.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["gateway", "health", "--timeout", "5"]
ENTRYPOINT ["gateway-entrypoint"]
CMD ["serve"]
