# syntax=docker/dockerfile:1
# One image for every ztmesh program: the CA (`ztmesh ca serve`), the operator (`ztmesh operator`),
# the sidecar (`ztmesh sidecar`) and the interception init container (`ztmesh iptables`).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build stage: the
# image needs Node 24, the production dependencies, and the sources.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs code at install time. The `node` devDependency (the pinned
# Node 24 for development) is left out with the other dev dependencies; the base image provides Node.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
# iptables (nft backend, plus the legacy one for older nodes) for the init container's
# `ztmesh iptables`; nothing else is added to the base image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
# A fixed non-root user for the CA and the operator (the chart runs them as 65532); the sidecar runs
# as UID 1337 (set by the injector), the init container as root with only NET_ADMIN and NET_RAW.
RUN groupadd --system --gid 65532 ztmesh && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ztmesh
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY ca ./ca
COPY sidecar ./sidecar
COPY operator ./operator
# `ztmesh demo` (the local demo mesh) and the error-code tables reference demo/.
COPY demo ./demo
# The injector reads the chart's default values (ztmesh inject without --values).
COPY charts/ztmesh/values.yaml ./charts/ztmesh/values.yaml
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/ztmesh.js"]
CMD ["--help"]
