// Package setup installs what xqg needs from outside the clone into the cache folder (see
// internal/cachedir), idempotently, printing each step: the ONNX Runtime shared library and the
// weaviate-server binary. `xqg setup` (and so `make setup`) runs both.
package setup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/internal/versions"
)

// EnvORTLibrary names an ONNX Runtime library to use instead of the cached download (the
// environment twin of config key ort.library_path).
const EnvORTLibrary = "XQG_ORT_LIBRARY"

const ortLibName = "libonnxruntime.so.1"

// ORTOptions configure EnsureONNXRuntime. The zero value does the standard thing.
type ORTOptions struct {
	// LibraryPath is an explicit library (ort.library_path / XQG_ORT_LIBRARY). When set it must
	// exist and be compatible; nothing else is tried.
	LibraryPath string
	// CacheDir is the cache folder (cachedir.Dir() when empty).
	CacheDir string
	// SystemCandidates lists installed libraries to consider before the cache; nil means
	// SystemLibraries (ldconfig and the usual folders). Tests pass their own.
	SystemCandidates func() []string
	// SHA256 of the library inside the npm package (versions.ONNXRuntimeSHA256 when empty).
	SHA256 string
	// Fetch puts the onnxruntime-node package tarball into dir and returns its path
	// (NPMPack when nil).
	Fetch func(ctx context.Context, dir string, out io.Writer) (string, error)
	// Out receives progress lines (discarded when nil).
	Out io.Writer
}

// ORTCachePath is where the downloaded library lives in cacheDir.
func ORTCachePath(cacheDir string) string {
	return filepath.Join(cacheDir, "onnxruntime", versions.ONNXRuntime, ortLibName)
}

// EnsureONNXRuntime returns a usable ONNX Runtime shared library: the configured one, else a
// compatible system library, else the sha256-verified cached copy, else it downloads
// onnxruntime-node with `npm pack` (never `npm install`: its install script fetches CUDA),
// extracts the Linux x64 library, verifies it and moves it into the cache atomically.
func EnsureONNXRuntime(ctx context.Context, opts ORTOptions) (string, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if opts.LibraryPath != "" {
		return checkConfigured(opts.LibraryPath, out)
	}
	sum := opts.SHA256
	if sum == "" {
		sum = versions.ONNXRuntimeSHA256
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		cacheDir = cachedir.Dir()
	}
	cands := opts.SystemCandidates
	if cands == nil {
		cands = SystemLibraries
	}
	for _, p := range cands() {
		v, err := LibraryVersion(p)
		if err != nil {
			fmt.Fprintf(out, "onnxruntime: skipping system library %s: %v\n", p, err)
			continue
		}
		if err := compatible(v); err != nil {
			fmt.Fprintf(out, "onnxruntime: skipping system library %s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(out, "onnxruntime: using system library %s (version %s)\n", p, v)
		return p, nil
	}

	dst := ORTCachePath(cacheDir)
	if _, err := os.Stat(dst); err == nil {
		got, err := fileSHA256(dst)
		if err == nil && got == sum {
			fmt.Fprintf(out, "onnxruntime: using cached %s (sha256 ok)\n", dst)
			return dst, nil
		}
		fmt.Fprintf(out, "onnxruntime: cached %s does not match sha256 %s (got %s, %v); downloading again\n", dst, sum, got, err)
	}
	if err := download(ctx, dst, sum, opts.Fetch, out); err != nil {
		return "", fmt.Errorf("onnxruntime: no library found (looked for %s); download failed: %w\n"+
			"  fix: make sure `npm` can reach the registry and rerun `make setup`, or install ONNX Runtime >= %s "+
			"and set ort.library_path (or %s) to its libonnxruntime.so.1", dst, err, versions.MinONNXRuntime, EnvORTLibrary)
	}
	fmt.Fprintf(out, "onnxruntime: installed %s\n", dst)
	return dst, nil
}

func checkConfigured(p string, out io.Writer) (string, error) {
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("onnxruntime: configured library %s (ort.library_path or %s) not found: %w\n"+
			"  fix: correct the path, or unset it so that `make setup` downloads ONNX Runtime %s into the cache",
			p, EnvORTLibrary, err, versions.ONNXRuntime)
	}
	v, err := LibraryVersion(p)
	if err != nil {
		return "", fmt.Errorf("onnxruntime: configured library %s: %w", p, err)
	}
	if err := compatible(v); err != nil {
		return "", fmt.Errorf("onnxruntime: configured library %s: %w\n"+
			"  fix: point ort.library_path at ONNX Runtime >= %s, or unset it so that `make setup` downloads %s",
			p, err, versions.MinONNXRuntime, versions.ONNXRuntime)
	}
	fmt.Fprintf(out, "onnxruntime: using configured %s (version %s)\n", p, v)
	return p, nil
}

var (
	symVersionRE  = regexp.MustCompile(`^VERS_(\d+\.\d+\.\d+)$`)
	fileVersionRE = regexp.MustCompile(`^libonnxruntime\.so\.(\d+\.\d+\.\d+)$`)
)

// LibraryVersion reads the ONNX Runtime version of a shared library without loading it. Its
// linker script tags every exported symbol with the version node VERS_<version>, which survives
// renaming and copying; a library built without it is recognised by a libonnxruntime.so.X.Y.Z name
// (of the file or of the file a symlink points to).
func LibraryVersion(path string) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	f, err := elf.Open(resolved)
	if err != nil {
		return "", fmt.Errorf("not an ELF shared library: %w", err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return "", fmt.Errorf("not a shared library (ELF type %v)", f.Type)
	}
	if vs, err := f.DynamicVersions(); err == nil {
		for _, v := range vs {
			if m := symVersionRE.FindStringSubmatch(v.Name); m != nil {
				return m[1], nil
			}
		}
	}
	for _, name := range []string{filepath.Base(resolved), filepath.Base(path)} {
		if m := fileVersionRE.FindStringSubmatch(name); m != nil {
			return m[1], nil
		}
	}
	return "", errors.New("cannot tell its ONNX Runtime version: no VERS_x.y.z symbol version and no libonnxruntime.so.x.y.z file name")
}

func parseVersion(v string) ([3]int, error) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, fmt.Errorf("version %q is not x.y.z", v)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, fmt.Errorf("version %q is not x.y.z", v)
		}
		out[i] = n
	}
	return out, nil
}

// compatible accepts 1.x.y with x.y at least versions.MinONNXRuntime: onnxruntime_go asks for
// that C API version, and ONNX Runtime keeps older API versions within a major release.
func compatible(v string) error {
	got, err := parseVersion(v)
	if err != nil {
		return err
	}
	min, err := parseVersion(versions.MinONNXRuntime)
	if err != nil {
		return err
	}
	if got[0] != min[0] {
		return fmt.Errorf("version %s has major version %d, need %d.x (>= %s)", v, got[0], min[0], versions.MinONNXRuntime)
	}
	if got[1] < min[1] || (got[1] == min[1] && got[2] < min[2]) {
		return fmt.Errorf("version %s is too old, need >= %s", v, versions.MinONNXRuntime)
	}
	return nil
}

// SystemLibraries lists libonnxruntime.so* files known to ldconfig and in the usual folders.
func SystemLibraries() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if b, err := exec.Command("ldconfig", "-p").Output(); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			name, target, ok := strings.Cut(strings.TrimSpace(line), " => ")
			if ok && strings.HasPrefix(name, "libonnxruntime.so") {
				add(strings.TrimSpace(target))
			}
		}
	}
	for _, dir := range []string{"/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/local/lib64", "/usr/lib64", "/opt/onnxruntime/lib"} {
		for _, name := range []string{ortLibName, "libonnxruntime.so"} {
			if p := filepath.Join(dir, name); fileExists(p) {
				add(p)
			}
		}
	}
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download fetches the package into a temporary folder beside dst (same file system, so the final
// rename is atomic and a concurrent reader never sees a partial library).
func download(ctx context.Context, dst, sum string, fetch func(context.Context, string, io.Writer) (string, error), out io.Writer) error {
	if fetch == nil {
		fetch = NPMPack
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".download-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(out, "onnxruntime: downloading %s with npm pack (into %s)\n", versions.ONNXRuntimeNPM, tmp)
	tgz, err := fetch(ctx, tmp, out)
	if err != nil {
		return err
	}
	lib := filepath.Join(tmp, ortLibName)
	fmt.Fprintf(out, "onnxruntime: extracting %s\n", versions.ONNXRuntimeTarPath)
	got, err := extractFile(tgz, versions.ONNXRuntimeTarPath, lib)
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("sha256 mismatch for %s in %s: got %s, want %s", versions.ONNXRuntimeTarPath, filepath.Base(tgz), got, sum)
	}
	fmt.Fprintf(out, "onnxruntime: sha256 ok (%s)\n", sum)
	if err := os.Chmod(lib, 0o755); err != nil {
		return err
	}
	return os.Rename(lib, dst)
}

// extractFile copies the tar.gz member name to dst and returns its sha256.
func extractFile(tgz, name, dst string) (string, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tgz, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s has no %s", filepath.Base(tgz), name)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", tgz, err)
		}
		if h.Name != name || h.Typeflag != tar.TypeReg {
			continue
		}
		w, err := os.Create(dst)
		if err != nil {
			return "", err
		}
		hash := sha256.New()
		_, err = io.Copy(io.MultiWriter(w, hash), tr)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("extract %s: %w", name, err)
		}
		return hex.EncodeToString(hash.Sum(nil)), nil
	}
}

// NPMPack runs `npm pack onnxruntime-node@<version>` in dir and returns the tarball's path.
func NPMPack(ctx context.Context, dir string, out io.Writer) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm not found on PATH (install it, e.g. `apt-get install npm`): %w", err)
	}
	cmd := exec.Command(npm, "pack", "--silent", versions.ONNXRuntimeNPM)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := runCmd(ctx, cmd); err != nil {
		return "", fmt.Errorf("npm pack %s: %w", versions.ONNXRuntimeNPM, err)
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(m) != 1 {
		return "", fmt.Errorf("npm pack %s: expected one .tgz in %s, found %d", versions.ONNXRuntimeNPM, dir, len(m))
	}
	return m[0], nil
}

// runCmd runs cmd in its own process group and kills the whole group when ctx ends, so an
// interrupted setup leaves no npm or compiler process behind.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
	p, err := procutil.Start(cmd)
	if err != nil {
		return err
	}
	select {
	case <-p.Done():
		return p.Err()
	case <-ctx.Done():
		_ = p.Stop(context.Background(), 2*time.Second)
		return ctx.Err()
	}
}
