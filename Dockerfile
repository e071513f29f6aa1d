# Multi-stage build of connect-ingest's programs: gateway, worker, ingestctl
# and connectsim, in one small image. docker-compose.yml picks the program
# with `command`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./gateway ./worker ./cmd/ingestctl ./cmd/connectsim

FROM alpine:3.22
# wget (busybox) serves the health checks; ca-certificates reach AWS over TLS.
RUN apk add --no-cache ca-certificates && adduser -D -u 10001 ingest
COPY --from=build /out/ /usr/local/bin/
USER ingest
ENTRYPOINT []
CMD ["gateway"]
