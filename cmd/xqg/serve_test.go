package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// xqgBinary builds cmd/xqg as users get it (CGO_ENABLED=0) into a test folder.
func xqgBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "xqg")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/xqg")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/xqg: %v\n%s", err, out)
	}
	return bin
}

// TestServeStopsThePluginOnSignal runs the real xqg binary: ready turns 200 once the plugin is up, a
// Weaviate-shaped query is answered, and SIGTERM or SIGINT ends it with exit 0 and no plugin left.
func TestServeStopsThePluginOnSignal(t *testing.T) {
	bin := xqgBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			args := embedArgs(t, false)
			addr := freeAddr(t)
			cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--log-format", "json"}, args...)...)
			cmd.Env = append(os.Environ(), "XQG_CONFIG=")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			pidc := make(chan int, 1)
			var logs bytes.Buffer
			var logMu sync.Mutex
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					logMu.Lock()
					logs.WriteString(sc.Text() + "\n")
					logMu.Unlock()
					var rec struct {
						Msg string `json:"msg"`
						Pid int    `json:"pid"`
					}
					if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "vectorizer plugin started" {
						pidc <- rec.Pid
					}
				}
			}()
			client := &http.Client{Timeout: 5 * time.Second}
			base := "http://" + addr
			deadline := time.Now().Add(60 * time.Second)
			for {
				res, err := client.Get(base + "/.well-known/ready")
				if err == nil {
					res.Body.Close()
					if res.StatusCode == 200 {
						break
					}
				}
				if time.Now().After(deadline) {
					logMu.Lock()
					t.Fatalf("never ready (last: %v)\n%s", err, logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			var pid int
			select {
			case pid = <-pidc:
			case <-time.After(5 * time.Second):
				t.Fatal("no 'vectorizer plugin started' log line with the pid")
			}
			req, _ := http.NewRequest("POST", base+"/vectors", strings.NewReader(`{"text":"where is the eiffel tower","dims":0,"vector":null,"error":"","config":{"pooling_strategy":"masked_mean","task_type":"query"}}`))
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Vector []float32 `json:"vector"`
				Dims   int       `json:"dims"`
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if err := json.Unmarshal(raw, &got); err != nil || res.StatusCode != 200 || len(got.Vector) == 0 || got.Dims != len(got.Vector) {
				t.Fatalf("query: %d %s", res.StatusCode, raw)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				if err != nil {
					logMu.Lock()
					t.Fatalf("xqg serve after %v: %v\n%s", sig, err, logs.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("xqg serve did not stop within 30s of %v", sig)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("plugin process %d still exists after xqg serve exited (kill 0: %v)", pid, err)
			}
		})
	}
}

func TestServeExitCodes(t *testing.T) {
	t.Setenv("XQG_CONFIG", "")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"missing plugin binary", []string{"--set", "plugin.path=" + filepath.Join(t.TempDir(), "nope")}, 2},
		{"bad listen address", []string{"--listen", "not-an-address"}, 2},
		{"bad log level", []string{"--log-level", "loud", "--set", "plugin.path=" + os.Args[0]}, 2},
		// The plugin starts but rejects its configuration: a runtime failure, not a hang.
		{"plugin rejects its models", []string{"--listen", "127.0.0.1:0", "--set", "plugin.path=" + plugintest.Binary(t),
			"--set", "encoder.model_dir=" + t.TempDir(), "--set", "ort.library_path=" + testenv.ORTLibrary(t)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan int, 1)
			go func() { done <- run(append([]string{"serve"}, tt.args...)) }()
			select {
			case code := <-done:
				if code != tt.want {
					t.Errorf("exit %d, want %d", code, tt.want)
				}
			case <-time.After(90 * time.Second):
				t.Fatal("xqg serve did not exit")
			}
		})
	}
}
