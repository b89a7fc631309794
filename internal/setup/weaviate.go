package setup

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/versions"
)

// WeaviateOptions configure EnsureWeaviate. The zero value does the standard thing.
type WeaviateOptions struct {
	// BinaryPath is an explicit weaviate-server (e.g. $XQG_WEAVIATE_BIN); it is verified, never built.
	BinaryPath string
	// CacheDir is the cache folder (cachedir.Dir() when empty).
	CacheDir string
	// Install builds weaviate-server into gobin (GoInstall when nil).
	Install func(ctx context.Context, gobin string, out io.Writer) error
	// Out receives progress lines and the build output (discarded when nil).
	Out io.Writer
}

// WeaviateCachePath is where the built server lives in cacheDir.
func WeaviateCachePath(cacheDir string) string {
	return filepath.Join(cacheDir, "weaviate", versions.Weaviate, "weaviate-server")
}

// EnsureWeaviate returns a weaviate-server of the pinned version, building it from source with
// `go install` into the cache when it is not there yet. A lock file serialises concurrent setups
// (two CI jobs on one machine), and the build goes to a temporary folder renamed into place, so
// the cache never holds a half-written binary.
func EnsureWeaviate(ctx context.Context, opts WeaviateOptions) (string, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if opts.BinaryPath != "" {
		if err := VerifyWeaviate(opts.BinaryPath); err != nil {
			return "", fmt.Errorf("weaviate: configured binary: %w", err)
		}
		fmt.Fprintf(out, "weaviate: using configured %s (%s)\n", opts.BinaryPath, versions.Weaviate)
		return opts.BinaryPath, nil
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		cacheDir = cachedir.Dir()
	}
	dst := WeaviateCachePath(cacheDir)
	if err := VerifyWeaviate(dst); err == nil {
		fmt.Fprintf(out, "weaviate: using cached %s (%s)\n", dst, versions.Weaviate)
		return dst, nil
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("weaviate: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".install.lock"), out)
	if err != nil {
		return "", fmt.Errorf("weaviate: %w", err)
	}
	defer unlock()
	// Another setup may have finished the build while we waited for the lock.
	if err := VerifyWeaviate(dst); err == nil {
		fmt.Fprintf(out, "weaviate: using cached %s (%s, built by another setup)\n", dst, versions.Weaviate)
		return dst, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "weaviate: rebuilding, cached binary unusable: %v\n", err)
	}

	install := opts.Install
	if install == nil {
		install = GoInstall
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", fmt.Errorf("weaviate: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(out, "weaviate: building %s@%s from source with go install (about 4 minutes the first time)\n", versions.WeaviateModule, versions.Weaviate)
	start := time.Now()
	if err := install(ctx, tmp, out); err != nil {
		return "", fmt.Errorf("weaviate: build %s@%s: %w", versions.WeaviateModule, versions.Weaviate, err)
	}
	built := filepath.Join(tmp, "weaviate-server")
	if err := VerifyWeaviate(built); err != nil {
		return "", fmt.Errorf("weaviate: after go install: %w", err)
	}
	if err := os.Rename(built, dst); err != nil {
		return "", fmt.Errorf("weaviate: %w", err)
	}
	fmt.Fprintf(out, "weaviate: installed %s in %s\n", dst, time.Since(start).Round(time.Second))
	return dst, nil
}

// VerifyWeaviate checks that path is an executable weaviate-server built from the pinned module
// version, by reading the Go build information embedded in it (no need to run it: the server
// has no --version flag).
func VerifyWeaviate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s is not a Go-built weaviate-server: %w", path, err)
	}
	if info.Path != versions.WeaviateModule || info.Main.Version != versions.Weaviate {
		return fmt.Errorf("%s is %s@%s, want %s@%s", path, info.Path, info.Main.Version, versions.WeaviateModule, versions.Weaviate)
	}
	return nil
}

// GoInstall runs `GOBIN=gobin go install github.com/weaviate/weaviate/cmd/weaviate-server@<version>`.
// It runs outside the clone so that our go.mod (which must never contain the server module) plays no part.
func GoInstall(ctx context.Context, gobin string, out io.Writer) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is not on PATH: %w", err)
	}
	cmd := exec.Command(goBin, "install", versions.WeaviateModule+"@"+versions.Weaviate)
	cmd.Dir = gobin
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOWORK=off")
	cmd.Stdout, cmd.Stderr = out, out
	return runCmd(ctx, cmd)
}

// lockFile takes an exclusive flock on path, polling so that ctx can interrupt the wait.
func lockFile(ctx context.Context, path string, out io.Writer) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !told {
			fmt.Fprintf(out, "weaviate: another setup is building (lock %s held); waiting\n", path)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
