# xqg service image: `xqg` (pure Go), the xqg-vectorizer plugin (cgo, ONNX Runtime) and libonnxruntime.
# Models are not in the image: mount an Optimum export folder at /models (see docker-compose.yml).

# ONNX Runtime 1.24.1 from the onnxruntime-node npm package, as `xqg setup` gets it (npm pack, never
# npm install: its install script downloads CUDA libraries), checked against the pinned sha256.
FROM node:22-bookworm-slim AS ort
WORKDIR /ort
RUN npm pack onnxruntime-node@1.24.1 \
 && tar -xzf onnxruntime-node-1.24.1.tgz package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
 && echo "53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4  package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c - \
 && mv package/bin/napi-v6/linux/x64/libonnxruntime.so.1 /ort/libonnxruntime.so.1

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/xqg ./cmd/xqg \
 && CGO_ENABLED=1 go build -trimpath -o /out/xqg-vectorizer ./cmd/xqg-vectorizer

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/xqg xqg && mkdir -p /var/lib/xqg/cache && chown -R xqg /var/lib/xqg
COPY --from=build /out/xqg /out/xqg-vectorizer /usr/local/bin/
COPY --from=ort /ort/libonnxruntime.so.1 /usr/local/lib/libonnxruntime.so.1
ENV XQG_ORT_LIBRARY_PATH=/usr/local/lib/libonnxruntime.so.1 \
    XQG_PLUGIN_PATH=/usr/local/bin/xqg-vectorizer \
    XQG_MODULE_LISTEN=0.0.0.0:8090 \
    XQG_CACHE_DIR=/var/lib/xqg/cache
USER xqg
EXPOSE 8090
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=60 \
  CMD curl -fsS http://127.0.0.1:8090/.well-known/ready || exit 1
ENTRYPOINT ["/usr/local/bin/xqg"]
CMD ["serve"]
