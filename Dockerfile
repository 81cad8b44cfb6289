# syntax=docker/dockerfile:1
# One image, two commands: `mudscf proxy` and `mudscf exporter` (the Helm
# chart runs both from it). `make build` produces the same static binary.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# Static (no cgo: distroless/static has no libc), no local paths, no
# symbol tables. The binary carries its own zoneinfo (time/tzdata).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/mudscf ./cmd/mudscf

# CA certificates for Tencent Cloud's HTTPS API, and nothing else: no
# shell, no package manager. The nonroot variant runs as 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mudscf /mudscf
USER nonroot:nonroot
EXPOSE 8080 9090 9464
ENTRYPOINT ["/mudscf"]
CMD ["proxy", "--config", "/etc/mudscf/config/proxy.yaml"]
