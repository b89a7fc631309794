package setup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/versions"
)

// buildLib compiles a tiny real shared library named name in dir; symver, when set, tags its
// symbols with that version node the way ONNX Runtime's linker script does (VERS_1.24.1).
func buildLib(t *testing.T, dir, name, symver string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testenv.Missing(t, "gcc (builds the test libraries)", "PATH", "apt-get install gcc")
	}
	src := filepath.Join(dir, "lib.c")
	if err := os.WriteFile(src, []byte("int OrtGetApiBase(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := []string{"-shared", "-fPIC", "-o", out, src}
	if symver != "" {
		m := filepath.Join(dir, "lib.map")
		if err := os.WriteFile(m, []byte(symver+" { global: *; };\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-Wl,--version-script="+m)
	}
	if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

func TestLibraryVersion(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string) string
		want    string
		wantErr string
	}{
		{"symbol version", func(t *testing.T, d string) string { return buildLib(t, d, "libonnxruntime.so.1", "VERS_1.24.1") }, "1.24.1", ""},
		{"symbol version beats file name", func(t *testing.T, d string) string {
			return buildLib(t, d, "libonnxruntime.so.1.99.0", "VERS_1.20.0")
		}, "1.20.0", ""},
		{"file name", func(t *testing.T, d string) string { return buildLib(t, d, "libonnxruntime.so.1.25.0", "") }, "1.25.0", ""},
		{"symlink to versioned name", func(t *testing.T, d string) string {
			buildLib(t, d, "libonnxruntime.so.1.24.3", "")
			link := filepath.Join(d, "libonnxruntime.so.1")
			if err := os.Symlink("libonnxruntime.so.1.24.3", link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "1.24.3", ""},
		{"no version anywhere", func(t *testing.T, d string) string { return buildLib(t, d, "libonnxruntime.so.1", "") }, "", "cannot tell its ONNX Runtime version"},
		{"not ELF", func(t *testing.T, d string) string {
			p := filepath.Join(d, "libonnxruntime.so.1.24.1")
			if err := os.WriteFile(p, []byte("not a library"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, "", "not an ELF shared library"},
		{"missing", func(t *testing.T, d string) string { return filepath.Join(d, "libonnxruntime.so.1") }, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LibraryVersion(tt.make(t, t.TempDir()))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLibraryVersionOfRealLibrary(t *testing.T) {
	got, err := LibraryVersion(testenv.ORTLibrary(t))
	if err != nil || got != versions.ONNXRuntime {
		t.Fatalf("got %q, %v; want %s", got, err, versions.ONNXRuntime)
	}
}

func TestCompatible(t *testing.T) {
	for _, tt := range []struct{ v, wantErr string }{
		{"1.24.0", ""}, {"1.24.1", ""}, {"1.30.2", ""},
		{"1.23.2", "too old, need >= 1.24.0"}, {"1.9.0", "too old"},
		{"2.0.0", "major version 2"}, {"0.25.0", "major version 0"},
		{"1.24", "not x.y.z"}, {"1.x.0", "not x.y.z"},
	} {
		err := compatible(tt.v)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("compatible(%q) = %v, want %q", tt.v, err, tt.wantErr)
		}
	}
}

// fakePackage writes an npm-pack-like tarball holding lib at the library's path.
func fakePackage(t *testing.T, dir string, lib []byte, libPath string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"package/package.json", []byte(`{"name":"onnxruntime-node"}`)},
		{"package/bin/napi-v6/darwin/arm64/libonnxruntime.1.24.1.dylib", []byte("other platform")},
		{libPath, lib},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "onnxruntime-node-1.24.1.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// countingFetch serves a fake package and counts downloads.
func countingFetch(t *testing.T, lib []byte, libPath string, n *atomic.Int32) func(context.Context, string, io.Writer) (string, error) {
	return func(_ context.Context, dir string, _ io.Writer) (string, error) {
		n.Add(1)
		return fakePackage(t, dir, lib, libPath), nil
	}
}

func noSystem() []string { return nil }

func TestEnsureONNXRuntimeDownloadOnceThenCached(t *testing.T) {
	cache := t.TempDir()
	lib := []byte("\x7fELF pretend library bytes")
	var fetches atomic.Int32
	var out bytes.Buffer
	opts := ORTOptions{CacheDir: cache, SystemCandidates: noSystem, SHA256: sha(lib),
		Fetch: countingFetch(t, lib, versions.ONNXRuntimeTarPath, &fetches), Out: &out}

	p, err := EnsureONNXRuntime(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if p != ORTCachePath(cache) {
		t.Errorf("path %s, want %s", p, ORTCachePath(cache))
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, lib) {
		t.Errorf("cached library content %q", b)
	}
	if !strings.Contains(out.String(), "downloading "+versions.ONNXRuntimeNPM) {
		t.Errorf("no download step printed:\n%s", out.String())
	}

	out.Reset()
	if p2, err := EnsureONNXRuntime(t.Context(), opts); err != nil || p2 != p {
		t.Fatalf("second call: %s, %v", p2, err)
	}
	if fetches.Load() != 1 {
		t.Errorf("fetched %d times, want 1", fetches.Load())
	}
	if !strings.Contains(out.String(), "using cached") {
		t.Errorf("second call did not report the cache:\n%s", out.String())
	}

	// A damaged cache copy is replaced.
	if err := os.WriteFile(p, []byte("truncated"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureONNXRuntime(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, lib) || fetches.Load() != 2 {
		t.Errorf("damaged cache not re-downloaded: fetches %d, content %q", fetches.Load(), b)
	}
	assertNoTemp(t, filepath.Dir(p))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(dir, ".download-*")); len(m) > 0 {
		t.Errorf("temporary download folders left: %v", m)
	}
}

func TestEnsureONNXRuntimeDownloadFailures(t *testing.T) {
	lib := []byte("library bytes")
	tests := []struct {
		name    string
		sum     string
		libPath string
		fetch   func(context.Context, string, io.Writer) (string, error)
		wantErr []string
	}{
		{"sha mismatch", sha([]byte("something else")), versions.ONNXRuntimeTarPath, nil,
			[]string{"sha256 mismatch", "got " + sha(lib), "want " + sha([]byte("something else"))}},
		{"library missing from package", sha(lib), "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1", nil,
			[]string{"has no " + versions.ONNXRuntimeTarPath}},
		{"npm fails", sha(lib), "", func(context.Context, string, io.Writer) (string, error) {
			return "", errors.New("npm pack: E404")
		}, []string{"npm pack: E404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			var n atomic.Int32
			fetch := tt.fetch
			if fetch == nil {
				fetch = countingFetch(t, lib, tt.libPath, &n)
			}
			_, err := EnsureONNXRuntime(t.Context(), ORTOptions{CacheDir: cache, SystemCandidates: noSystem, SHA256: tt.sum, Fetch: fetch})
			if err == nil {
				t.Fatal("no error")
			}
			want := append(tt.wantErr, "looked for "+ORTCachePath(cache), "ort.library_path", EnvORTLibrary)
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if _, err := os.Stat(ORTCachePath(cache)); !os.IsNotExist(err) {
				t.Errorf("a failed download left %s", ORTCachePath(cache))
			}
			assertNoTemp(t, filepath.Dir(ORTCachePath(cache)))
		})
	}
}

func TestEnsureONNXRuntimeConfiguredAndSystem(t *testing.T) {
	dir := t.TempDir()
	good := buildLib(t, filepath.Join(mkdir(t, dir, "good")), "libonnxruntime.so.1", "VERS_1.24.1")
	old := buildLib(t, filepath.Join(mkdir(t, dir, "old")), "libonnxruntime.so.1", "VERS_1.16.3")
	missing := filepath.Join(dir, "nowhere", "libonnxruntime.so.1")
	tests := []struct {
		name    string
		opts    ORTOptions
		want    string
		wantErr []string
	}{
		{"configured ok", ORTOptions{LibraryPath: good}, good, nil},
		{"configured missing", ORTOptions{LibraryPath: missing}, "",
			[]string{"configured library " + missing, "ort.library_path", EnvORTLibrary, "not found"}},
		{"configured too old", ORTOptions{LibraryPath: old}, "",
			[]string{"configured library " + old, "version 1.16.3 is too old, need >= 1.24.0"}},
		{"configured wins over system", ORTOptions{LibraryPath: old, SystemCandidates: func() []string { return []string{good} }}, "",
			[]string{"too old"}},
		{"system: old skipped, good used", ORTOptions{SystemCandidates: func() []string { return []string{old, good} }}, good, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fetches atomic.Int32
			tt.opts.CacheDir = t.TempDir()
			tt.opts.Fetch = countingFetch(t, nil, versions.ONNXRuntimeTarPath, &fetches)
			var out bytes.Buffer
			tt.opts.Out = &out
			got, err := EnsureONNXRuntime(t.Context(), tt.opts)
			if fetches.Load() != 0 {
				t.Errorf("downloaded although a library was configured or installed")
			}
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %s, %v; want %s", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %s, want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
