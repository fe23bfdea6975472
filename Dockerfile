# syntax=docker/dockerfile:1
# One image for the gateway and the demo mocks (the command picks which).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/: fixes to dependencies that npm ci applies (postinstall: patch-package); docs/benchmarks.md says why.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY subgraphs-mock ./subgraphs-mock
COPY scripts ./scripts
COPY schemas ./schemas
RUN npm run build \
 && cp -r schemas dist/schemas \
 && cp -r subgraphs-mock/dev-keys dist/subgraphs-mock/dev-keys \
 && npm prune --omit=dev

FROM node:22-bookworm-slim AS runtime
# NODE_OPTIONS: src/runtime/nodeFlags.ts says why (young-generation size for a gateway's churn).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    APOLLO_TELEMETRY_DISABLED=true \
    PORT=4000 \
    PORTICO_SUPERGRAPH_PATH=/app/schemas/supergraph.graphql
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/schemas ./schemas
COPY --from=build --chown=node:node /app/package.json ./package.json
USER node
EXPOSE 4000 8088
HEALTHCHECK --interval=5s --timeout=2s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# exec form: node is PID 1 and receives SIGTERM directly (graceful drain).
CMD ["node", "dist/src/main.js"]
