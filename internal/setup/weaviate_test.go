package setup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/versions"
)

func TestVerifyWeaviate(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho weaviate\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantErr string
	}{
		{"real server", testenv.WeaviateBinary(t), ""},
		{"shell script", script, "is not a Go-built weaviate-server"},
		{"not executable", noexec, "is not an executable file"},
		{"other Go program", self, "want " + versions.WeaviateModule + "@" + versions.Weaviate},
		{"missing", filepath.Join(dir, "nope"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWeaviate(tt.path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// linkInstall stands in for go install by linking the real, already built server into gobin;
// it counts builds and is slow enough for a concurrent setup to find the lock taken.
func linkInstall(real string, builds *atomic.Int32) func(context.Context, string, io.Writer) error {
	return func(_ context.Context, gobin string, _ io.Writer) error {
		builds.Add(1)
		time.Sleep(300 * time.Millisecond)
		return os.Symlink(real, filepath.Join(gobin, "weaviate-server"))
	}
}

func TestEnsureWeaviateBuildsOnceConcurrently(t *testing.T) {
	real := testenv.WeaviateBinary(t)
	cache := t.TempDir()
	var builds atomic.Int32
	opts := WeaviateOptions{CacheDir: cache, Install: linkInstall(real, &builds)}

	var wg sync.WaitGroup
	paths := make([]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { paths[i], errs[i] = EnsureWeaviate(t.Context(), opts) })
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || paths[i] != WeaviateCachePath(cache) {
			t.Fatalf("setup %d: %s, %v", i, paths[i], errs[i])
		}
	}
	if builds.Load() != 1 {
		t.Errorf("built %d times, want 1", builds.Load())
	}

	var out bytes.Buffer
	opts.Out = &out
	if _, err := EnsureWeaviate(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if builds.Load() != 1 || !strings.Contains(out.String(), "using cached") {
		t.Errorf("third call built again (%d builds) or did not say so:\n%s", builds.Load(), out.String())
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(WeaviateCachePath(cache)), ".build-*")); len(m) > 0 {
		t.Errorf("temporary build folders left: %v", m)
	}
}

func TestEnsureWeaviateFailures(t *testing.T) {
	tests := []struct {
		name    string
		install func(context.Context, string, io.Writer) error
		wantErr string
	}{
		{"build fails", func(context.Context, string, io.Writer) error { return errors.New("go: module lookup disabled") },
			"build " + versions.WeaviateModule + "@" + versions.Weaviate + ": go: module lookup disabled"},
		{"build makes something else", func(_ context.Context, gobin string, _ io.Writer) error {
			return os.WriteFile(filepath.Join(gobin, "weaviate-server"), []byte("#!/bin/sh\n"), 0o755)
		}, "after go install"},
		{"interrupted during the build", func(ctx context.Context, _ string, _ io.Writer) error {
			<-ctx.Done()
			return ctx.Err()
		}, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			_, err := EnsureWeaviate(ctx, WeaviateOptions{CacheDir: cache, Install: tt.install})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := os.Stat(WeaviateCachePath(cache)); !os.IsNotExist(err) {
				t.Errorf("a failed build left %s", WeaviateCachePath(cache))
			}
		})
	}
}

func TestEnsureWeaviateConfiguredBinary(t *testing.T) {
	var builds atomic.Int32
	opts := WeaviateOptions{CacheDir: t.TempDir(), Install: linkInstall("/nonexistent", &builds)}
	opts.BinaryPath = testenv.WeaviateBinary(t)
	if p, err := EnsureWeaviate(t.Context(), opts); err != nil || p != opts.BinaryPath {
		t.Fatalf("%s, %v", p, err)
	}
	opts.BinaryPath = filepath.Join(t.TempDir(), "weaviate-server")
	if _, err := EnsureWeaviate(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "configured binary") {
		t.Fatalf("missing configured binary: %v", err)
	}
	if builds.Load() != 0 {
		t.Error("built although a binary was configured")
	}
}
