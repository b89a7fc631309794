// Package ortenv owns the one ONNX Runtime environment of the process: which shared library is
// loaded, which execution provider sessions get, and how many intra-op threads each uses.
// ONNX Runtime allows a single environment per process, so this is the only global state in xqg.
package ortenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/setup"
	"github.com/xqg/xqg/internal/versions"
)

// EnvLibraryPath overrides the library location when ort.library_path is empty.
const EnvLibraryPath = "XQG_ORT_LIBRARY"

// DefaultLibraryPath is where `xqg setup` installs the pinned ONNX Runtime.
func DefaultLibraryPath() string {
	return cachedir.Sub("onnxruntime", versions.ONNXRuntime, "libonnxruntime.so.1")
}

// LibraryPath resolves the shared library the way `xqg setup` does: the configured path, else
// $XQG_ORT_LIBRARY, else a compatible system library, else the cache default.
func LibraryPath(configured string) string {
	if configured != "" {
		return configured
	}
	if p := os.Getenv(EnvLibraryPath); p != "" {
		return p
	}
	for _, p := range setup.SystemLibraries() {
		if v, err := setup.LibraryVersion(p); err == nil && atLeast(v, versions.MinONNXRuntime) {
			return p
		}
	}
	return DefaultLibraryPath()
}

// atLeast compares x.y.z versions within one major version.
func atLeast(v, min string) bool {
	var a, b [3]int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &a[0], &a[1], &a[2]); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(min, "%d.%d.%d", &b[0], &b[1], &b[2]); err != nil {
		return false
	}
	if a[0] != b[0] {
		return false
	}
	return a[1] > b[1] || (a[1] == b[1] && a[2] >= b[2])
}

// ErrLibraryMissing is wrapped by Init when the shared library file does not exist, so callers
// (tests in particular) can tell "not installed" from "broken".
var ErrLibraryMissing = errors.New("onnx runtime shared library not found")

var (
	mu       sync.Mutex
	inited   bool
	initErr  error
	libPath  string
	provider = "cpu"
	deviceID int
	// probed is set once the configured provider was tried on real session options; until then
	// provider holds the requested one.
	probed bool
)

// Init loads the library and creates the environment once. Later calls return the first call's
// result whatever their arguments, because the environment cannot be re-created with another
// library while sessions may exist; a later call asking for a different library gets an error.
func Init(c config.ORT) error {
	mu.Lock()
	defer mu.Unlock()
	path := LibraryPath(c.LibraryPath)
	if inited {
		if initErr == nil && path != libPath {
			return fmt.Errorf("ort: environment already uses %s, cannot switch to %s", libPath, path)
		}
		return initErr
	}
	inited = true
	libPath = path
	if _, err := os.Stat(path); err != nil {
		initErr = fmt.Errorf("ort: %w at %s (set ort.library_path or %s, or run `xqg setup`): %v",
			ErrLibraryMissing, path, EnvLibraryPath, err)
		return initErr
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		initErr = fmt.Errorf("ort: initialise environment with %s: %w", path, err)
		return initErr
	}
	switch c.Provider {
	case "", "cpu":
		provider, probed = "cpu", true
	case "cuda", "tensorrt":
		provider = c.Provider
	default:
		initErr = fmt.Errorf("ort.provider: must be one of cpu, cuda, tensorrt, got %q", c.Provider)
		return initErr
	}
	deviceID = c.DeviceID
	return nil
}

// Version is the loaded library's version ("" before Init succeeded).
func Version() string {
	mu.Lock()
	defer mu.Unlock()
	if !inited || initErr != nil {
		return ""
	}
	return ort.GetVersion()
}

// Library is the path of the loaded library.
func Library() string {
	mu.Lock()
	defer mu.Unlock()
	return libPath
}

// Provider reports the execution provider sessions actually get: the configured one, or cpu
// after it turned out unavailable.
func Provider() string {
	mu.Lock()
	defer mu.Unlock()
	return provider
}

// SessionOptions returns options for one session: intra-op threads (0 leaves ONNX Runtime's
// default, one per core) and the execution provider. If the configured GPU provider cannot be
// appended (a CPU-only library, no device), it logs one line and every session falls back to CPU.
// The caller destroys the options after creating its session.
func SessionOptions(threads int) (*ort.SessionOptions, error) {
	mu.Lock()
	defer mu.Unlock()
	if !inited {
		return nil, errors.New("ort: environment not initialised (call ortenv.Init first)")
	}
	if initErr != nil {
		return nil, initErr
	}
	o, err := newOptions(threads)
	if err != nil {
		return nil, err
	}
	if provider == "cpu" {
		return o, nil
	}
	if err := appendProvider(o, provider, deviceID); err != nil {
		if probed {
			// It worked before, so this is a real failure, not a missing provider.
			o.Destroy()
			return nil, fmt.Errorf("ort: %s execution provider: %w", provider, err)
		}
		slog.Warn("ort: execution provider unavailable, falling back to cpu",
			"provider", provider, "device_id", deviceID, "err", err)
		provider, probed = "cpu", true
		// A failed append can leave the options half-configured; start clean.
		o.Destroy()
		return newOptions(threads)
	}
	probed = true
	return o, nil
}

// newOptions is CPU session options with threads intra-op threads (0: ONNX Runtime's default).
func newOptions(threads int) (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	if threads > 0 {
		if err := o.SetIntraOpNumThreads(threads); err != nil {
			o.Destroy()
			return nil, fmt.Errorf("ort: intra-op threads %d: %w", threads, err)
		}
	}
	return o, nil
}

func appendProvider(o *ort.SessionOptions, name string, device int) error {
	dev := map[string]string{"device_id": fmt.Sprint(device)}
	switch name {
	case "cuda":
		po, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return err
		}
		defer po.Destroy()
		if err := po.Update(dev); err != nil {
			return err
		}
		return o.AppendExecutionProviderCUDA(po)
	case "tensorrt":
		po, err := ort.NewTensorRTProviderOptions()
		if err != nil {
			return err
		}
		defer po.Destroy()
		if err := po.Update(dev); err != nil {
			return err
		}
		return o.AppendExecutionProviderTensorRT(po)
	}
	return fmt.Errorf("unknown provider %q", name)
}

// RunOptions returns run options that terminate the running session call when ctx is done, and
// a release function to call (once) when the runs are over; release waits for a termination in
// flight so the options are never destroyed under it.
func RunOptions(ctx context.Context) (*ort.RunOptions, func(), error) {
	ro, err := ort.NewRunOptions()
	if err != nil {
		return nil, nil, fmt.Errorf("ort: run options: %w", err)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = ro.Terminate()
	})
	return ro, func() {
		if !stop() {
			<-fired
		}
		ro.Destroy()
	}, nil
}
