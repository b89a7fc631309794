package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/versions"
)

// realBinary is the weaviate-server under test; missing skips, or fails under XQG_TEST_STRICT=1.
func realBinary(t *testing.T) string { return testenv.WeaviateBinary(t) }

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

func assertGone(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		t.Fatalf("bad pid %d", pid)
	}
	if procutil.GroupAlive(pid) {
		t.Errorf("process group %d still has processes", pid)
	}
}

func assertPortFree(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Errorf("port %d not freed: %v", port, err)
		return
	}
	l.Close()
}

func stopCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestStartStopRealServer(t *testing.T) {
	bin := realBinary(t)
	s, err := Start(t.Context(), Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	pid, ports, dir := s.Pid(), s.Ports(), s.DataDir()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = s.Stop(stopCtx(t))
		}
	})

	var meta struct {
		Version  string `json:"version"`
		Hostname string `json:"hostname"`
	}
	if code := getJSON(t, s.URL()+"/v1/meta", &meta); code != http.StatusOK {
		t.Fatalf("/v1/meta: status %d", code)
	}
	if want := strings.TrimPrefix(versions.Weaviate, "v"); meta.Version != want {
		t.Errorf("version %q, want %q", meta.Version, want)
	}
	if c, err := net.DialTimeout("tcp", s.GRPCAddr(), time.Second); err != nil {
		t.Errorf("gRPC port: %v", err)
	} else {
		c.Close()
	}
	if !strings.Contains(s.LogTail(), "node1") {
		t.Errorf("log tail does not mention the hostname:\n%s", s.LogTail())
	}

	if err := s.Stop(stopCtx(t)); err != nil {
		t.Fatal(err)
	}
	stopped = true
	assertGone(t, pid)
	for _, p := range []int{ports.HTTP, ports.GRPC, ports.Gossip, ports.Data, ports.Raft, ports.RaftRPC} {
		assertPortFree(t, p)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data folder %s not removed: %v", dir, err)
	}
	if s.Running() {
		t.Error("Running() after Stop")
	}
}

func TestTwoServersSideBySideAndRestartKeepsData(t *testing.T) {
	bin := realBinary(t)
	type res struct {
		s   *Server
		err error
	}
	ch := make(chan res, 2)
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		go func() {
			s, err := Start(t.Context(), Options{Binary: bin, DataDir: d, LogFile: filepath.Join(d, "weaviate.log")})
			ch <- res{s, err}
		}()
	}
	var servers []*Server
	for range 2 {
		r := <-ch
		if r.err != nil {
			t.Error(r.err)
			continue
		}
		servers = append(servers, r.s)
		t.Cleanup(func() { _ = r.s.Stop(stopCtx(t)) })
	}
	if len(servers) != 2 {
		t.FailNow()
	}
	if servers[0].URL() == servers[1].URL() {
		t.Fatalf("both on %s", servers[0].URL())
	}
	for _, s := range servers {
		if code := getJSON(t, s.URL()+"/v1/meta", nil); code != http.StatusOK {
			t.Errorf("%s/v1/meta: %d", s.URL(), code)
		}
	}

	// Restart: same ports, same data.
	s := servers[0]
	body := `{"class":"RestartProbe","vectorizer":"none"}`
	resp, err := http.Post(s.URL()+"/v1/schema", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create class: %d", resp.StatusCode)
	}
	oldPid, oldURL := s.Pid(), s.URL()
	if err := s.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertGone(t, oldPid)
	if s.URL() != oldURL || s.Pid() == oldPid {
		t.Errorf("restart: url %s→%s pid %d→%d", oldURL, s.URL(), oldPid, s.Pid())
	}
	if code := getJSON(t, s.URL()+"/v1/schema/RestartProbe", nil); code != http.StatusOK {
		t.Errorf("class lost across restart: status %d", code)
	}
	if st, err := os.Stat(filepath.Join(s.DataDir(), "weaviate.log")); err != nil || st.Size() == 0 {
		t.Errorf("log file not written: %v", err)
	}
}

// fakeServer writes a shell script standing in for weaviate-server; it records its pid in pidFile.
func fakeServer(t *testing.T, body string) (bin, pidFile string) {
	t.Helper()
	dir := t.TempDir()
	pidFile = filepath.Join(dir, "pid")
	bin = filepath.Join(dir, "fake-weaviate")
	script := "#!/bin/sh\necho $$ > " + pidFile + "\n" + body + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, pidFile
}

func readPid(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("fake server never ran: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestStartFailures(t *testing.T) {
	// The hanging fakes ignore SIGTERM and leave a background child in their group, so passing
	// means the SIGKILL escalation reached the whole group.
	const hang = "trap '' TERM\nsleep 300 &\nwhile true; do sleep 1; done"
	tests := []struct {
		name    string
		body    string
		opts    Options
		cancel  time.Duration
		wantErr []string
		wantIs  error
	}{
		{
			name:    "exits at once",
			body:    "echo 'fatal: could not parse config PERSISTENCE_DATA_PATH' >&2\nexit 3",
			wantErr: []string{"exited during start", "exit status 3", "fatal: could not parse config"},
		},
		{
			name:    "never ready",
			body:    "echo listening-never\n" + hang,
			opts:    Options{StartTimeout: 1500 * time.Millisecond, StopGrace: 300 * time.Millisecond},
			wantErr: []string{"not ready within 1.5s", "listening-never"},
		},
		{
			name:    "context cancelled",
			body:    "echo waiting\n" + hang,
			opts:    Options{StopGrace: 300 * time.Millisecond},
			cancel:  500 * time.Millisecond,
			wantErr: []string{"start interrupted", "waiting"},
			wantIs:  context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, pidFile := fakeServer(t, tt.body)
			opts := tt.opts
			opts.Binary = bin
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			s, err := Start(ctx, opts)
			if err == nil {
				_ = s.Stop(stopCtx(t))
				t.Fatal("start succeeded")
			}
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *StartError: %v", err, err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error is not %v: %v", tt.wantIs, err)
			}
			assertGone(t, readPid(t, pidFile))
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing binary", Options{Binary: ""}, ""},
		{"bad env", Options{Binary: "/bin/true", Env: []string{"NOEQUALS"}}, `extra env entry "NOEQUALS" is not KEY=VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				t.Setenv(EnvBinary, filepath.Join(t.TempDir(), "nope"))
				tt.want = "weaviate-server not found at"
			}
			_, err := Start(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestRetryOnPortConflict: a start that loses a port race ("address already in use") is retried
// with fresh ports; a conflict on a port the caller chose is reported, not retried.
func TestRetryOnPortConflict(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		// python3 stands in for a server that answers ready.
		testenv.Missing(t, "python3", "$PATH", "apt-get install -y python3")
	}
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	ports := filepath.Join(dir, "ports")
	// First run: fails like a lost bind race. Later runs: answer every GET with 200 on --port ($6).
	body := `echo x >> ` + count + `
echo "$6" >> ` + ports + `
if [ "$(wc -l < ` + count + `)" -eq 1 ]; then
  echo '{"level":"fatal","msg":"listen tcp 127.0.0.1:'"$6"': bind: address already in use"}'
  exit 1
fi
exec ` + py + ` -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$6"`
	bin, _ := fakeServer(t, body)

	s, err := Start(t.Context(), Options{Binary: bin, StopGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(stopCtx(t))
	b, _ := os.ReadFile(ports)
	tried := strings.Fields(string(b))
	if len(tried) != 2 || tried[0] == tried[1] {
		t.Errorf("HTTP ports tried %v, want two different ones", tried)
	}
	if tried[len(tried)-1] != strconv.Itoa(s.Ports().HTTP) {
		t.Errorf("serving on %d, last tried %v", s.Ports().HTTP, tried)
	}

	// All ports chosen by the caller: the conflict is the caller's to fix.
	os.Remove(count)
	p := s.Ports()
	p.HTTP++
	_, err = Start(t.Context(), Options{Binary: bin, Ports: p})
	var se *StartError
	if !errors.As(err, &se) || !se.PortConflict || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("want a port-conflict StartError, got %v", err)
	}
}

// BenchmarkStartStop measures a cold start to ready plus a graceful stop of one node.
func BenchmarkStartStop(b *testing.B) {
	bin := testenv.WeaviateBinary(b)
	for b.Loop() {
		s, err := Start(b.Context(), Options{Binary: bin})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Stop(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
