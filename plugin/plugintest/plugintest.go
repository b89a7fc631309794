// Package plugintest gives tests a real vectorizer plugin process: the xqg-vectorizer binary
// built from this checkout (once per test process), tiny models, and a started host.
//
//	func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) } // removes the built binary afterwards
//
//	h := plugintest.Start(t, plugintest.Tiny(t, false), nil)
//
// Prerequisites (the ONNX Runtime library) follow internal/testenv: missing is a skip, or a
// failure under XQG_TEST_STRICT=1.
package plugintest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/tinymodels"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
)

// EnvBinary names a prebuilt plugin to use instead of building one (make test sets it).
const EnvBinary = "XQG_PLUGIN_BIN"

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// Binary returns the path of the plugin binary: $XQG_PLUGIN_BIN, else cmd/xqg-vectorizer built
// with `go build` into a temporary folder on first use.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("%s=%s: %v", EnvBinary, p, err)
		}
		return p
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "xqg-plugintest-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "xqg-vectorizer")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/xqg-vectorizer")
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/xqg-vectorizer: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildPath
}

// Main runs the tests and removes the built binary; use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}

// Tiny returns a backend configuration on the tiny generated models (written once into the
// cache dir) and the ONNX Runtime library; withGenerator adds the tiny seq2seq generator.
func Tiny(tb testing.TB, withGenerator bool) plugin.BackendConfig {
	tb.Helper()
	lib := testenv.ORTLibrary(tb)
	enc, gen, err := tinymodels.Ensure(cachedir.Dir())
	if err != nil {
		tb.Fatalf("tiny models: %v", err)
	}
	c := plugin.BackendConfigOf(config.Defaults())
	c.ORT.LibraryPath = lib
	c.Encoder.ModelDir = enc
	c.Encoder.Threads = 1
	c.Generator.Threads = 1
	c.Cache.Dir = tb.TempDir()
	if withGenerator {
		if _, err := os.Stat(gen); err != nil {
			testenv.Missing(tb, "tiny seq2seq generator", gen, "xqg models tiny")
		}
		c.Generator.ModelDir = gen
		c.Generator.QueriesPerLanguage = 2
		c.Generator.MaxNewTokens = 4
	}
	return c
}

// Start starts a host on the plugin binary with cfg and closes it when the test ends.
// tune, if not nil, adjusts the options first.
func Start(tb testing.TB, cfg plugin.BackendConfig, tune func(*host.Options)) *host.Host {
	tb.Helper()
	opts := host.Options{
		Path:           Binary(tb),
		Config:         cfg,
		Logger:         slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		StartTimeout:   60 * time.Second,
		MaxRestarts:    3,
		RestartBackoff: 50 * time.Millisecond,
	}
	if tune != nil {
		tune(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := host.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start plugin host: %v", err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// testWriter sends log lines to the test log, and drops them once the test has finished
// (a restarted plugin may still log after that).
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	defer func() { _ = recover() }()
	w.tb.Log(string(p))
	return len(p), nil
}
