// Package versions pins the external components xqg installs and talks to, in one place.
package versions

const (
	// Weaviate is the weaviate-server release built from source by setup and started by the launcher.
	Weaviate = "v1.35.2"
	// WeaviateModule is the Go package path `go install` builds the server from.
	WeaviateModule = "github.com/weaviate/weaviate/cmd/weaviate-server"

	// ONNXRuntime is the ONNX Runtime release whose shared library the plugin loads.
	// onnxruntime_go v1.27.0 needs a library of at least MinONNXRuntime.
	ONNXRuntime    = "1.24.1"
	MinONNXRuntime = "1.24.0"
	// ONNXRuntimeNPM is the npm package that ships the Linux x64 build (fetched with `npm pack`, never installed:
	// its install script downloads CUDA libraries).
	ONNXRuntimeNPM = "onnxruntime-node@" + ONNXRuntime
	// ONNXRuntimeTarPath is the library's path inside that package.
	ONNXRuntimeTarPath = "package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
	// ONNXRuntimeSHA256 is the sha256 of that file in onnxruntime-node-1.24.1.tgz.
	ONNXRuntimeSHA256 = "53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4"
)

// Version is xqg's own version; release builds set it with -ldflags "-X github.com/xqg/xqg/internal/versions.Version=…".
var Version = "0.1.0-dev"
