# syntax=docker/dockerfile:1
# frontmcp-server image: a Release build on Debian 12, run on debian:12-slim as a non-root
# user. Build: `docker build -t frontmcp-server .`; run one node:
#   docker run -p 3000:3000 frontmcp-server
# and a cluster node (see deploy/k8s/ for a whole cluster):
#   docker run -e FRONTMCP_DEPLOYMENT_MODE=distributed -e FRONTMCP_REDIS_URL=redis://redis:6379 \
#              -e MACHINE_ID=node-1 -p 3000:3000 frontmcp-server
# tests/e2e/dockerfile.test.mjs checks this file against the repository and the real binary
# (no container engine needed): stages, user, the runtime libraries the binary links, COPY
# sources, the cmake configure step.

# ---- build ---------------------------------------------------------------------------------
# The build dependencies are those of scripts/install-deps.sh (Debian 12's packages), less
# the tools only tests and development need.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev \
      libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libssl-dev libhiredis-dev \
      prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the server's build reads (tests, benchmarks and examples are not built).
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY src/ src/
COPY apps/ apps/
# FRONTMCP_WERROR=OFF: a new compiler warning must not break an image build; CI builds with
# -Werror and keeps the tree warning-free.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFRONTMCP_BUILD_TESTS=OFF -DFRONTMCP_BUILD_BENCH=OFF -DFRONTMCP_WERROR=OFF \
 && cmake --build build --target frontmcp-server \
 && strip build/bin/frontmcp-server

# ---- runtime -------------------------------------------------------------------------------
FROM debian:12-slim AS runtime
# The shared libraries frontmcp-server links (Debian 12 package names; libc6, libgcc-s1 and
# libstdc++6 come with the base image, as apt needs them), and CA certificates for rediss://.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libspdlog1.10 libfmt9 libtomlplusplus3 \
      libhiredis0.14 libssl3 libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 frontmcp \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin frontmcp
COPY --from=build /src/build/bin/frontmcp-server /usr/local/bin/frontmcp-server
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 3000
# The server drains on SIGTERM (up to 5 s: in-flight requests finish, new connections go to
# other nodes), then leaves the cluster so its sessions move at once. It runs as PID 1 and
# handles SIGTERM/SIGINT itself, and starts no child processes: no init wrapper needed.
STOPSIGNAL SIGTERM
# No HEALTHCHECK: the slim image has no HTTP client (curl would add ~10 packages for it), and
# orchestrators use their own probes: GET /healthz (alive) and GET /readyz (ready for
# traffic) on port 3000, as in deploy/k8s/frontmcp.yaml.
ENTRYPOINT ["frontmcp-server"]
# Listen on every interface of the container (the default is 127.0.0.1). Other flags go
# after the image name; they replace this CMD, so repeat --host 0.0.0.0 with them.
CMD ["--host", "0.0.0.0"]
