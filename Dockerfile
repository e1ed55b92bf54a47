# odoo-paylink in a container (see "Running in Docker" in README.md).
#   docker build -t odoo-paylink .
#   docker run -d --name odoo-paylink --stop-timeout 35 \
#     -v paylink-data:/data -v /etc/odoo-paylink/config.json:/app/config/local.json:ro \
#     --env-file /etc/odoo-paylink/env -p 8089:8089 odoo-paylink

# Build: dev dependencies, TypeScript, and better-sqlite3's native module (compiled here when no
# prebuilt binary fits).
FROM node:20-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci, as in .ci/run: npm 11 writes lockfiles without other platforms'
# optional packages and npm ci then refuses them; install still honours the lockfile.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: only what the daemon needs, as the unprivileged `node` user of the base image.
FROM node:20-slim
# config/local.json is mounted; without it the container exits 78 (`-e PAYLINK_CONFIG=` for the
# sandbox mode).
ENV NODE_ENV=production \
    PAYLINK_CONFIG=config/local.json \
    PAYLINK_DB=/data/paylink.db \
    PAYLINK_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY templates ./templates
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8089
# On SIGTERM the daemon stops within shutdown.graceMs + 5 s (25 s by default): give it
# --stop-timeout 35 (compose: stop_grace_period: 35s); Docker's default 10 s would kill it.
STOPSIGNAL SIGTERM
# /readyz answers 200 once Odoo and the store are usable, 503 with a reason code otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PAYLINK_HTTP_PORT || 8089) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "--log-format", "json"]
