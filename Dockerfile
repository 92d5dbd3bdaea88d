# Baton agent and CLI image. Multi-stage: build TypeScript and kustomize, ship production dependencies only.
# Not exercised by this repo's tests (no Docker engine on the CI machine); see README "Container image".
FROM golang:1.24-bookworm AS kustomize
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@v5.7.1

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 baton && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin baton
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
RUN ln -s /app/dist/cli.js /usr/local/bin/baton && chmod +x /app/dist/cli.js
USER 10001:10001
ENV NODE_ENV=production BATON_CACHE_DIR=/cache
ENTRYPOINT ["baton"]
CMD ["agent"]
