// Package orttest initialises the ONNX Runtime environment for tests and benchmarks: a missing
// library skips the test, unless XQG_TEST_STRICT=1 (CI) where it fails.
package orttest

import (
	"errors"
	"os"
	"testing"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/ortenv"
)

// Init makes sure the environment is up, using config defaults plus XQG_ORT_LIBRARY.
func Init(tb testing.TB) {
	tb.Helper()
	err := ortenv.Init(config.Defaults().ORT)
	if err == nil {
		return
	}
	if errors.Is(err, ortenv.ErrLibraryMissing) && os.Getenv("XQG_TEST_STRICT") != "1" {
		tb.Skipf("skipping: %v", err)
	}
	tb.Fatal(err)
}
