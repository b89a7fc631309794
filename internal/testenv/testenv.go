// Package testenv finds what tests need from outside the clone (the ONNX Runtime library, the
// weaviate-server binary, ../shared/data) and decides what happens when something is missing:
// under XQG_TEST_STRICT=1 (set by `make test`) a missing prerequisite fails the test, otherwise it
// skips with the make target that provides it.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/versions"
)

// Strict reports whether missing prerequisites are failures (make test) rather than skips.
func Strict() bool { return os.Getenv("XQG_TEST_STRICT") == "1" }

// Missing fails (strict) or skips the test because a prerequisite is absent.
func Missing(tb testing.TB, what, path, fix string) {
	tb.Helper()
	msg := what + " not found at " + path + " (run " + fix + ")"
	if Strict() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// ORTLibrary returns the ONNX Runtime shared library: $XQG_ORT_LIBRARY, else the setup cache.
func ORTLibrary(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("XQG_ORT_LIBRARY")
	if p == "" {
		p = cachedir.Sub("onnxruntime", versions.ONNXRuntime, "libonnxruntime.so.1")
	}
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "ONNX Runtime library", p, "make setup")
	}
	return p
}

// WeaviateBinary returns weaviate-server: $XQG_WEAVIATE_BIN, else the setup cache.
func WeaviateBinary(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("XQG_WEAVIATE_BIN")
	if p == "" {
		p = cachedir.Sub("weaviate", versions.Weaviate, "weaviate-server")
	}
	if _, err := os.Stat(p); err != nil {
		Missing(tb, "weaviate-server", p, "make setup")
	}
	return p
}

// RepoRoot returns the repository root, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedData returns ../shared/data beside the clone ($XQG_SHARED_DATA overrides).
func SharedData(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("XQG_SHARED_DATA")
	if p == "" {
		p = filepath.Join(RepoRoot(), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(p, "README.md")); err != nil {
		Missing(tb, "shared evaluation data", p, "a checkout with ../shared beside it")
	}
	return p
}

// CopyDir copies the folder src into a fresh temporary folder and returns it, so a test can damage a
// copy of a shared fixture (a model folder, say) without touching the original.
func CopyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// CountFiles counts the regular files below dir (0 when dir does not exist yet).
func CountFiles(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return n
}
