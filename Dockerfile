# One image for every service; docker-compose.yml picks the entry point per container.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY lib/package.json lib/
COPY packages/catalogue/package.json packages/catalogue/
COPY packages/engine/package.json packages/engine/
COPY gateway/package.json gateway/
COPY subgraphs/accounts/package.json subgraphs/accounts/
COPY subgraphs/platforms/package.json subgraphs/platforms/
COPY subgraphs/sources/package.json subgraphs/sources/
COPY subgraphs/jobs/package.json subgraphs/jobs/
COPY subgraphs/billing/package.json subgraphs/billing/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
