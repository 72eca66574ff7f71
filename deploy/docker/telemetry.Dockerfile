# syntax=docker/dockerfile:1
# aerie-telemetry: the history API on 8083 (/livez, /readyz too). Its data dir keeps the disk spill
# of batches InfluxDB has not taken yet (DATA_DIR/telemetry-spill), replayed after a restart: mount
# a volume there. better-sqlite3 (the embedded store) is a native addon, compiled in the deps stage.
# Build from the repository root:
#   docker build -f deploy/docker/telemetry.Dockerfile -t aerie/telemetry:0.1.0 .
# deploy/test/dockerfiles.test.ts checks this file against the package (bin, workspace dependencies,
# tsconfig references) and against the Kubernetes manifests (ports, user).

# --- build: compile telemetry and the workspaces its tsconfig references. No install scripts here:
# tsc needs no native addon, so this stage needs no compiler.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
# Every workspace's package.json, as in the repository, then the sources of the projects tsc -b compiles.
COPY contracts/package.json contracts/
COPY local-engines/package.json local-engines/
COPY mavlink/package.json mavlink/
COPY simulator/package.json simulator/
COPY edge-agent/package.json edge-agent/
COPY fleet-hub/package.json fleet-hub/
COPY telemetry/package.json telemetry/
COPY delivery-core/package.json delivery-core/
COPY distributed/package.json distributed/
COPY demo/package.json demo/
COPY bench/package.json bench/
RUN npm ci --ignore-scripts --include-workspace-root -w @aerie/contracts -w @aerie/local-engines -w @aerie/telemetry
COPY contracts/ contracts/
COPY local-engines/ local-engines/
COPY telemetry/ telemetry/
RUN npx tsc -b telemetry

# --- deps: production dependencies only (a clean `npm ci --omit=dev` rather than a prune of the
# build stage's tree), install scripts on so the native addons compile.
FROM node:20-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Only the package.json of the workspaces it runs: npm would install the dependencies of every
# workspace it finds, the dev-only ones (simulator for core) included.
COPY contracts/package.json contracts/
COPY local-engines/package.json local-engines/
COPY telemetry/package.json telemetry/
RUN npm ci --omit=dev -w @aerie/contracts -w @aerie/local-engines -w @aerie/telemetry \
 && mkdir -p contracts/node_modules local-engines/node_modules telemetry/node_modules \
 && npm cache clean --force

# --- runtime: dist/, production node_modules and package.json files; no compiler, no sources.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
ENV AERIE_TELEMETRY_HTTP_HOST=0.0.0.0
ENV AERIE_TELEMETRY_DATA_DIR=/var/lib/aerie/telemetry
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/contracts/node_modules ./contracts/node_modules
COPY --from=build /app/contracts/package.json ./contracts/
COPY --from=build /app/contracts/dist ./contracts/dist
COPY --from=deps /app/local-engines/node_modules ./local-engines/node_modules
COPY --from=build /app/local-engines/package.json ./local-engines/
COPY --from=build /app/local-engines/dist ./local-engines/dist
COPY --from=deps /app/telemetry/node_modules ./telemetry/node_modules
COPY --from=build /app/telemetry/package.json ./telemetry/
COPY --from=build /app/telemetry/dist ./telemetry/dist
# Writable by the service user without a volume too (a volume mounted here takes fsGroup 1000).
RUN mkdir -p /var/lib/aerie/telemetry && chown 1000:1000 /var/lib/aerie/telemetry
# uid 1000 is the image's `node` user; numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8083
# main.ts stops taking work, finishes what it holds and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/telemetry/dist/main.js"]
