# syntax=docker/dockerfile:1
# aerie-hub (fleet-hub). In the cluster it runs on the external Mosquitto (AERIE_HUB_EXTERNAL_URL) and
# listens only on its metrics port (9464: /metrics, /livez, /readyz); 1883 is its embedded broker,
# used when the image runs without an external broker (one hub, drones connecting to it).
# --mqtt-host 0.0.0.0: the metrics server binds the same host as the broker, and a probe comes
# from outside the container.
# Build from the repository root:
#   docker build -f deploy/docker/fleet-hub.Dockerfile -t aerie/fleet-hub:0.1.0 .
# deploy/test/dockerfiles.test.ts checks this file against the package (bin, workspace dependencies,
# tsconfig references) and against the Kubernetes manifests (ports, user).

# --- build: compile fleet-hub and the workspaces its tsconfig references. No install scripts here:
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
RUN npm ci --ignore-scripts --include-workspace-root -w @aerie/contracts -w @aerie/fleet-hub
COPY contracts/ contracts/
COPY fleet-hub/ fleet-hub/
RUN npx tsc -b fleet-hub

# --- deps: production dependencies only (a clean `npm ci --omit=dev` rather than a prune of the
# build stage's tree), install scripts on.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Only the package.json of the workspaces it runs: npm would install the dependencies of every
# workspace it finds, the dev-only ones (simulator for core) included.
COPY contracts/package.json contracts/
COPY fleet-hub/package.json fleet-hub/
RUN npm ci --omit=dev -w @aerie/contracts -w @aerie/fleet-hub \
 && mkdir -p contracts/node_modules fleet-hub/node_modules \
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
COPY --from=deps /app/fleet-hub/node_modules ./fleet-hub/node_modules
COPY --from=build /app/fleet-hub/package.json ./fleet-hub/
COPY --from=build /app/fleet-hub/dist ./fleet-hub/dist
# Writable by the service user without a volume too (a volume mounted here takes fsGroup 1000).
RUN mkdir -p /var/lib/aerie/hub && chown 1000:1000 /var/lib/aerie/hub
# uid 1000 is the image's `node` user; numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 1883 9464
# main.ts stops taking work, finishes what it holds and exits 0 on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/fleet-hub/dist/main.js"]
CMD ["--mqtt-host", "0.0.0.0", "--data-dir", "/var/lib/aerie/hub", "--metrics-port", "9464"]
