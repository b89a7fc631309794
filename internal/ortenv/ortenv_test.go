package ortenv_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/setup"
)

func TestLibraryPathPrecedence(t *testing.T) {
	if len(setup.SystemLibraries()) > 0 {
		t.Skip("a system ONNX Runtime is installed; the default would be it")
	}
	t.Setenv("XQG_CACHE_DIR", "/c")
	tests := []struct {
		name, configured, env, want string
	}{
		{"default", "", "", filepath.Join("/c", "onnxruntime", "1.24.1", "libonnxruntime.so.1")},
		{"env", "", "/e/lib.so", "/e/lib.so"},
		{"config wins", "/cfg/lib.so", "/e/lib.so", "/cfg/lib.so"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ortenv.EnvLibraryPath, tt.env)
			if got := ortenv.LibraryPath(tt.configured); got != tt.want {
				t.Fatalf("LibraryPath(%q) = %q, want %q", tt.configured, got, tt.want)
			}
		})
	}
}

func TestInitIdempotentAndSessionOptions(t *testing.T) {
	orttest.Init(t)
	// A second Init with the same settings is fine and changes nothing.
	if err := ortenv.Init(config.Defaults().ORT); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if err := ortenv.Init(config.ORT{LibraryPath: "/nonexistent/other.so"}); err == nil ||
		!strings.Contains(err.Error(), "cannot switch") {
		t.Fatalf("Init with another library: got %v, want a 'cannot switch' error", err)
	}
	if v := ortenv.Version(); !strings.HasPrefix(v, "1.") {
		t.Fatalf("Version() = %q", v)
	}
	o, err := ortenv.SessionOptions(2)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Destroy()
	if p := ortenv.Provider(); p != "cpu" {
		t.Fatalf("Provider() = %q, want cpu", p)
	}
}

// The environment is per process, so the fallback runs in a child copy of this test binary.
func TestCUDAFallsBackToCPU(t *testing.T) {
	if os.Getenv("XQG_ORTENV_CHILD") == "1" {
		c := config.Defaults().ORT
		c.Provider = "cuda"
		if err := ortenv.Init(c); err != nil {
			t.Skip(err)
		}
		o, err := ortenv.SessionOptions(1)
		if err != nil {
			t.Fatal(err)
		}
		o.Destroy()
		fmt.Println("PROVIDER=" + ortenv.Provider())
		return
	}
	orttest.Init(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCUDAFallsBackToCPU$", "-test.v")
	cmd.Env = append(os.Environ(), "XQG_ORTENV_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	// This machine's library is CPU-only; on a GPU build the provider stays cuda.
	if !strings.Contains(string(out), "PROVIDER=cpu") && !strings.Contains(string(out), "PROVIDER=cuda") {
		t.Fatalf("child did not report a provider:\n%s", out)
	}
	if strings.Contains(string(out), "PROVIDER=cpu") && !strings.Contains(string(out), "falling back to cpu") {
		t.Fatalf("fallback to cpu was not logged:\n%s", out)
	}
	t.Logf("%s", out)
}

func TestAtLeast(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{{"1.24.0", true}, {"1.24.1", true}, {"1.25.0", true}, {"1.23.9", false}, {"2.0.0", false}, {"x", false}} {
		if got := ortenv.AtLeast(tt.v, "1.24.0"); got != tt.want {
			t.Errorf("AtLeast(%q) = %v", tt.v, got)
		}
	}
}
