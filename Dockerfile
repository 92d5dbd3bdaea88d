# Baton agent and CLI image: the TypeScript is built in one stage; the runtime stage gets the compiled app,
# its production dependencies, git, kustomize and helm, and runs as uid 10001 (no npm cache, no compiler, no Go).
#
# Base images are build arguments, so a hardened or air-gapped build can use its own. The runtime base
# must have Node.js >= 20.11 and either git, gpg and ssh-keygen or apt-get; the build base also needs npm. test/image/build.sh
# builds this file with Debian trixie bases made by mmdebstrap and TOOLS=context (see README "Container image").
ARG BUILD_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=node:20-bookworm-slim
ARG GO_IMAGE=golang:1.24-bookworm
# Where kustomize and helm come from: "go" builds them from the Go module proxy; "context" copies
# tools/kustomize and tools/helm from the build context (static binaries you built or verified yourself).
ARG TOOLS=go

FROM ${GO_IMAGE} AS tools-go
ARG KUSTOMIZE_VERSION=v5.7.1
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}
# helm renders Helm environments (`helm template`, offline; see src/config/helm.ts).
ARG HELM_VERSION=v3.19.0
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath -ldflags "-s -w" helm.sh/helm/v3/cmd/helm@${HELM_VERSION}

FROM scratch AS tools-context
COPY tools/kustomize /out/kustomize
COPY tools/helm /out/helm

FROM tools-${TOOLS} AS tools

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Type declarations, source maps and READMEs in node_modules are not read at run time: about half its size.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -delete

FROM ${RUNTIME_IMAGE}
# git for the CLI's commands that commit and push (pin, promote, rollback); the agent itself fetches with
# isomorphic-git, and checks commit signatures (Environment spec.verify) with git verify-commit, which runs
# gpg (OpenPGP) or ssh-keygen (SSH). What the base lacks comes from apt. The user is written into
# /etc/passwd directly: bases without shadow tools work too.
RUN missing=""; \
    command -v git >/dev/null || missing="$missing git ca-certificates"; \
    command -v gpg >/dev/null || missing="$missing gpg"; \
    command -v ssh-keygen >/dev/null || missing="$missing openssh-client"; \
    if [ -n "$missing" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; \
    fi \
  && echo 'baton:x:10001:10001:baton:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
  && echo 'baton:x:10001:' >> /etc/group
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=tools /out/kustomize /usr/local/bin/kustomize
COPY --from=tools /out/helm /usr/local/bin/helm
RUN ln -s /app/dist/cli.js /usr/local/bin/baton && chmod +x /app/dist/cli.js
USER 10001:10001
# A 4 MiB young generation instead of V8's 16 MiB semi-spaces: the agent's live heap is ~25 MiB, the rest of
# a large apply is short-lived garbage; measured peak RSS at 1,000 objects 115 MiB instead of 138 MiB
# (npm run bench apply runs the agent with this same NODE_OPTIONS).
ENV NODE_ENV=production BATON_CACHE_DIR=/cache NODE_OPTIONS=--max-semi-space-size=4
ENTRYPOINT ["baton"]
CMD ["agent"]
