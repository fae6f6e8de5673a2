# A small image running `gateway serve` as a non-root user.
# Config and store live on the /data volume:
#   docker run -v $PWD/net:/data -p 8080:8080 einvoice-gateway
# where net/gateway.toml was written by `gateway init net --name ... --host 0.0.0.0 --port 8080`.
FROM python:3.11-slim AS build
# A C compiler for the build stage only: the rules are compiled with mypyc
# (setup.py); the runtime image gets the wheel, not the compiler.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY gateway ./gateway
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# DejaVu fonts: the print channel draws Latin, Greek and Cyrillic names with them.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /data gateway \
    && mkdir -p /data && chown gateway /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER gateway
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENV GATEWAY_CONFIG=/data/gateway.toml
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["gateway"]
CMD ["serve"]
