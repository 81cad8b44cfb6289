# syntax=docker/dockerfile:1
# One image, two commands: `mudscf proxy` and `mudscf exporter` (the Helm
# chart runs both from it). `make build` produces the same static binary,
# stamped with the same version variables:
#
#   docker build \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) \
#     --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t REGISTRY/mudscf:VERSION .
#
# Base images are pinned by digest so a rebuild gets the same bytes. The
# digests below were NOT verified by pulling (the machine that wrote this
# had no registry access): each is the digest that several independent
# public Dockerfiles pin for the same tag. renovate (renovate.json)
# compares each with the registry's current digest for the tag beside it
# and proposes the registry's where they differ, so a digest it has
# replaced, or run over and left alone, is the registry's own; until its
# first run, they are unverified. To verify by hand:
#   docker buildx imagetools inspect golang:1.26
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# (or `crane digest`). Keep the tag beside the digest: renovate needs it.

FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
# The toolchain CI builds and tests with (the Makefile says why): the go
# command fetches it from the module proxy, checked against the checksum
# database, whatever patch release the base image holds.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# What mudscf --version and mudscf_build_info report (the .git directory
# stays out of the build context, so they come in as arguments).
ARG VERSION=unknown
ARG REVISION=unknown
ARG BRANCH=unknown
# Static (no cgo: distroless/static has no libc), no local paths, no
# symbol tables. The binary carries its own zoneinfo (time/tzdata).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
      -X github.com/prometheus/common/version.Version=${VERSION} \
      -X github.com/prometheus/common/version.Revision=${REVISION} \
      -X github.com/prometheus/common/version.Branch=${BRANCH}" \
    -o /out/mudscf ./cmd/mudscf

# CA certificates for Tencent Cloud's HTTPS API, and nothing else: no
# shell, no package manager. The nonroot variant runs as 65532.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=""
LABEL org.opencontainers.image.title="mudscf" \
      org.opencontainers.image.description="Mudbase's function-logs API served from Tencent Cloud SCF, and a Prometheus/OpenTelemetry exporter" \
      org.opencontainers.image.source="https://github.com/mudscf/mudscf" \
      org.opencontainers.image.url="https://github.com/mudscf/mudscf" \
      org.opencontainers.image.documentation="https://github.com/mudscf/mudscf/blob/main/README.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/mudscf /mudscf
USER nonroot:nonroot
EXPOSE 8080 9090 9464
ENTRYPOINT ["/mudscf"]
CMD ["proxy", "--config", "/etc/mudscf/config/proxy.yaml"]
