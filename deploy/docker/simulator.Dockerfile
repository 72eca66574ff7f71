# syntax=docker/dockerfile:1
# aerie-sim (simulator), for staging and load tests. No EXPOSE: every vehicle binds an ephemeral UDP
# port by default (--port-base 0) and sends to the agents' --gcs-port-base. serialport (mavlink) is a
# native addon: built in the deps stage.
# Build from the repository root:
#   docker build -f deploy/docker/simulator.Dockerfile -t aerie/simulator:0.1.0 .
# deploy/test/dockerfiles.test.ts checks this file against the package (bin, workspace dependencies,
# tsconfig references) and against the Kubernetes manifests (ports, user).

# --- build: compile simulator and the workspaces its tsconfig references. No install scripts here:
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
RUN npm ci --ignore-scripts --include-workspace-root -w @aerie/contracts -w @aerie/mavlink -w @aerie/simulator
COPY contracts/ contracts/
COPY mavlink/ mavlink/
COPY simulator/ simulator/
RUN npx tsc -b simulator

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
COPY mavlink/package.json mavlink/
COPY simulator/package.json simulator/
RUN npm ci --omit=dev -w @aerie/contracts -w @aerie/mavlink -w @aerie/simulator \
 && mkdir -p contracts/node_modules mavlink/node_modules simulator/node_modules \
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
COPY --from=deps /app/mavlink/node_modules ./mavlink/node_modules
COPY --from=build /app/mavlink/package.json ./mavlink/
COPY --from=build /app/mavlink/dist ./mavlink/dist
COPY --from=deps /app/simulator/node_modules ./simulator/node_modules
COPY --from=build /app/simulator/package.json ./simulator/
COPY --from=build /app/simulator/dist ./simulator/dist
# uid 1000 is the image's `node` user; numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
# main.ts stops taking work, finishes what it holds and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/simulator/dist/main.js"]
CMD ["--no-table"]
