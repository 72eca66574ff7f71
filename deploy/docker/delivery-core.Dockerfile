# syntax=docker/dockerfile:1
# aerie-core (delivery-core): the REST API on 8080 (/livez, /readyz too). --data-dir holds the
# per-instance ingestion log (DIR/ingest) and, without DATABASE_URL, the SQLite file: mount a volume
# there. Its tsconfig references simulator (types for the ETA bench), so the build stage compiles it;
# the runtime needs only contracts. The tracking page's assets are read from src/ at run time.
# better-sqlite3 is a native addon: compiled in the deps stage, which has python3, make and g++.
# Build from the repository root:
#   docker build -f deploy/docker/delivery-core.Dockerfile -t aerie/delivery-core:0.1.0 .
# deploy/test/dockerfiles.test.ts checks this file against the package (bin, workspace dependencies,
# tsconfig references) and against the Kubernetes manifests (ports, user).

# --- build: compile delivery-core and the workspaces its tsconfig references. No install scripts here:
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
RUN npm ci --ignore-scripts --include-workspace-root -w @aerie/contracts -w @aerie/mavlink -w @aerie/simulator -w @aerie/delivery-core
COPY contracts/ contracts/
COPY mavlink/ mavlink/
COPY simulator/ simulator/
COPY delivery-core/ delivery-core/
RUN npx tsc -b delivery-core

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
COPY delivery-core/package.json delivery-core/
RUN npm ci --omit=dev -w @aerie/contracts -w @aerie/delivery-core \
 && mkdir -p contracts/node_modules delivery-core/node_modules \
 && npm cache clean --force

# --- runtime: dist/, production node_modules and package.json files; no compiler, no sources.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/contracts/node_modules ./contracts/node_modules
COPY --from=build /app/contracts/package.json ./contracts/
COPY --from=build /app/contracts/dist ./contracts/dist
COPY --from=deps /app/delivery-core/node_modules ./delivery-core/node_modules
COPY --from=build /app/delivery-core/package.json ./delivery-core/
COPY --from=build /app/delivery-core/dist ./delivery-core/dist
COPY --from=build /app/delivery-core/src/tracking-page/assets ./delivery-core/src/tracking-page/assets
# Writable by the service user without a volume too (a volume mounted here takes fsGroup 1000).
RUN mkdir -p /var/lib/aerie/core && chown 1000:1000 /var/lib/aerie/core
# uid 1000 is the image's `node` user; numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8080
# main.ts stops taking work, finishes what it holds and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/delivery-core/dist/main.js"]
CMD ["--http-host", "0.0.0.0", "--data-dir", "/var/lib/aerie/core"]
