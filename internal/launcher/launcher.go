// Package launcher runs the real weaviate-server natively (no Docker) on loopback ports, for the
// demo, the integration tests and xqg itself: one node with Start, a local cluster with
// StartCluster. Every process it starts leads its own process group and dies with its parent
// (see internal/procutil), so a failed or interrupted test leaves nothing behind.
package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/internal/versions"
)

// EnvBinary overrides where FindBinary looks for weaviate-server.
const EnvBinary = "XQG_WEAVIATE_BIN"

const (
	defaultStartTimeout = 90 * time.Second
	defaultStopGrace    = 15 * time.Second
	tailBytes           = 64 << 10
	errorTailLines      = 40
	startAttempts       = 3
)

// Ports are the six ports one weaviate-server listens on. Zero means "pick a free one".
// weaviate-server binds GRPC and Data on all interfaces (it has no setting for their address);
// the others on 127.0.0.1.
type Ports struct {
	HTTP    int // REST API (--port)
	GRPC    int // GRPC_PORT
	Gossip  int // CLUSTER_GOSSIP_BIND_PORT (memberlist, TCP and UDP)
	Data    int // CLUSTER_DATA_BIND_PORT (node-to-node data API)
	Raft    int // RAFT_PORT
	RaftRPC int // RAFT_INTERNAL_RPC_PORT; must be Raft+1 in a local cluster
}

// Options configure one server. The zero value is usable: free ports, a temporary data folder
// removed by Stop, hostname node1, the binary from FindBinary.
type Options struct {
	// Binary is the weaviate-server executable; empty means FindBinary().
	Binary string
	// DataDir is PERSISTENCE_DATA_PATH. Empty: a temporary folder that Stop removes.
	DataDir string
	// Hostname is CLUSTER_HOSTNAME (node1 when empty).
	Hostname string
	// Ports to listen on; zero fields are picked free.
	Ports Ports
	// QueryDefaultsLimit is QUERY_DEFAULTS_LIMIT (25 when zero).
	QueryDefaultsLimit int
	// Env is extra KEY=VALUE settings applied last, e.g. ENABLE_MODULES=text2vec-transformers,
	// TRANSFORMERS_PASSAGE_INFERENCE_API=http://127.0.0.1:8090. Note that with a vectorizer module
	// enabled, Weaviate reports ready only once that module's inference API answers.
	Env []string
	// StartTimeout bounds the wait for /v1/.well-known/ready (90s when zero).
	StartTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL (15s when zero).
	StopGrace time.Duration
	// LogFile, when set, receives the server's whole stdout and stderr (appended).
	LogFile string
	// LogWriter, when set, also receives the log (e.g. os.Stderr for a verbose demo).
	LogWriter io.Writer

	// Set by StartCluster.
	cluster *clusterEnv
}

type clusterEnv struct {
	size     int
	raftJoin string
	join     func() string // CLUSTER_JOIN at each (re)start: the gossip addresses of running peers
}

// FindBinary returns $XQG_WEAVIATE_BIN, else the copy `xqg setup` builds into the cache folder.
func FindBinary() (string, error) {
	p := os.Getenv(EnvBinary)
	if p == "" {
		p = cachedir.Sub("weaviate", versions.Weaviate, "weaviate-server")
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("weaviate-server not found at %s (run `make setup` or `go run ./cmd/xqg setup` to build it, or set %s): %w", p, EnvBinary, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("weaviate-server at %s is not an executable file", p)
	}
	return p, nil
}

// StartError is returned when the server does not come up; it carries the end of the log.
type StartError struct {
	Hostname string
	Reason   string
	Tail     string
	// PortConflict is true when the log says a port was taken (a race with another process).
	PortConflict bool
	Err          error
}

func (e *StartError) Error() string {
	msg := fmt.Sprintf("weaviate-server %s: %s", e.Hostname, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Tail == "" {
		return msg + "\n--- log: (empty) ---"
	}
	return msg + "\n--- last log lines ---\n" + e.Tail
}

func (e *StartError) Unwrap() error { return e.Err }

// Server is one running (or stopped) weaviate-server.
type Server struct {
	opts       Options
	ports      Ports
	dataDir    string
	ownDataDir bool
	tail       *tailBuffer
	logFile    *os.File

	mu       sync.Mutex
	proc     *procutil.Proc
	copyDone chan struct{}
}

// Start launches weaviate-server and returns once it reports ready. ctx bounds the start only;
// the server runs until Stop. On any failure nothing is left running and the error ends with the
// log tail. A port lost to another process between picking and binding is retried with fresh ports.
func Start(ctx context.Context, opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		var pp portPicker
		s.ports, err = pickPorts(&pp, opts.Ports, false)
		pp.release()
		if err == nil {
			err = s.launch(ctx)
		}
		if err == nil {
			return s, nil
		}
		var se *StartError
		if attempt < startAttempts && errors.As(err, &se) && se.PortConflict && hasZero(opts.Ports) && ctx.Err() == nil {
			continue
		}
		s.cleanup()
		return nil, err
	}
}

func newServer(opts Options) (*Server, error) {
	if opts.Binary == "" {
		b, err := FindBinary()
		if err != nil {
			return nil, err
		}
		opts.Binary = b
	}
	if opts.Hostname == "" {
		opts.Hostname = "node1"
	}
	if opts.QueryDefaultsLimit == 0 {
		opts.QueryDefaultsLimit = 25
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = defaultStopGrace
	}
	for _, kv := range opts.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("launcher: extra env entry %q is not KEY=VALUE", kv)
		}
	}
	s := &Server{opts: opts, tail: newTailBuffer(tailBytes), dataDir: opts.DataDir}
	if s.dataDir == "" {
		d, err := os.MkdirTemp("", "xqg-weaviate-"+opts.Hostname+"-")
		if err != nil {
			return nil, fmt.Errorf("launcher: create data folder: %w", err)
		}
		s.dataDir, s.ownDataDir = d, true
	} else if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("launcher: create data folder %s: %w", s.dataDir, err)
	}
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			s.cleanup()
			return nil, fmt.Errorf("launcher: open log file: %w", err)
		}
		s.logFile = f
	}
	return s, nil
}

func hasZero(p Ports) bool {
	return p.HTTP == 0 || p.GRPC == 0 || p.Gossip == 0 || p.Data == 0 || p.Raft == 0 || p.RaftRPC == 0
}

// pickPorts fills the zero fields of want. adjacentRaft forces RaftRPC = Raft+1 (local clusters).
func pickPorts(pp *portPicker, want Ports, adjacentRaft bool) (Ports, error) {
	p := want
	var err error
	pick := func(dst *int, f func() (int, error)) {
		if err == nil && *dst == 0 {
			*dst, err = f()
		}
	}
	pick(&p.HTTP, pp.tcp)
	pick(&p.GRPC, pp.tcpAll)
	pick(&p.Gossip, pp.tcpUDP)
	pick(&p.Data, pp.tcpAll)
	if p.Raft == 0 && p.RaftRPC == 0 {
		pick(&p.Raft, pp.pair)
		p.RaftRPC = p.Raft + 1
	} else {
		pick(&p.Raft, pp.tcp)
		pick(&p.RaftRPC, pp.tcp)
	}
	if err != nil {
		return p, err
	}
	if adjacentRaft && p.RaftRPC != p.Raft+1 {
		return p, fmt.Errorf("launcher: in a local cluster the raft RPC port must be the raft port + 1, got raft %d rpc %d", p.Raft, p.RaftRPC)
	}
	return p, nil
}

func (s *Server) env() []string {
	env := []string{}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	p := s.ports
	set := func(k string, v any) { env = append(env, fmt.Sprintf("%s=%v", k, v)) }
	set("CLUSTER_HOSTNAME", s.opts.Hostname)
	set("CLUSTER_ADVERTISE_ADDR", "127.0.0.1")
	set("CLUSTER_BIND_ADDR", "127.0.0.1")
	set("CLUSTER_GOSSIP_BIND_PORT", p.Gossip)
	set("CLUSTER_DATA_BIND_PORT", p.Data)
	set("RAFT_PORT", p.Raft)
	set("RAFT_INTERNAL_RPC_PORT", p.RaftRPC)
	set("GRPC_PORT", p.GRPC)
	set("RAFT_TIMEOUTS_MULTIPLIER", 1)
	set("GO_PROFILING_DISABLE", true)
	set("DISABLE_TELEMETRY", true)
	set("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", true)
	set("PERSISTENCE_DATA_PATH", s.dataDir)
	set("QUERY_DEFAULTS_LIMIT", s.opts.QueryDefaultsLimit)
	set("DEFAULT_VECTORIZER_MODULE", "none")
	if c := s.opts.cluster; c != nil {
		// Weaviate's own recipe for several nodes on one host (tools/dev/run_dev_server.sh):
		// CLUSTER_IN_LOCALHOST makes raft look peers' ports up in RAFT_JOIN (name:raftport) and
		// reach their RPC on raftport+1, instead of assuming one port for every node.
		set("CLUSTER_IN_LOCALHOST", true)
		set("RAFT_BOOTSTRAP_EXPECT", c.size)
		set("RAFT_JOIN", c.raftJoin)
		if j := c.join(); j != "" {
			set("CLUSTER_JOIN", j)
		}
	} else {
		set("RAFT_BOOTSTRAP_EXPECT", 1)
		set("RAFT_JOIN", fmt.Sprintf("%s:%d", s.opts.Hostname, p.Raft))
	}
	return append(env, s.opts.Env...)
}

// launch runs one start attempt with s.ports and waits for readiness.
func (s *Server) launch(ctx context.Context) error {
	if err := s.spawn(); err != nil {
		return err
	}
	return s.waitReady(ctx)
}

func (s *Server) spawn() error {
	// Built before taking s.mu: in a cluster, env asks the other nodes whether they run.
	env := s.env()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.Exited() {
		return fmt.Errorf("launcher: %s is already running (pid %d)", s.opts.Hostname, s.proc.Pid)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("launcher: log pipe: %w", err)
	}
	cmd := exec.Command(s.opts.Binary, "--scheme", "http", "--host", "127.0.0.1", "--port", strconv.Itoa(s.ports.HTTP))
	cmd.Env = env
	cmd.Dir = s.dataDir
	// An *os.File (not an io.Writer) so that exec does not tie Wait to the copying: a process
	// that lingers holding the pipe must not block reaping.
	cmd.Stdout, cmd.Stderr = w, w
	proc, err := procutil.Start(cmd)
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return &StartError{Hostname: s.opts.Hostname, Reason: "could not run " + s.opts.Binary, Err: err}
	}
	sinks := []io.Writer{s.tail}
	if s.logFile != nil {
		sinks = append(sinks, s.logFile)
	}
	if s.opts.LogWriter != nil {
		sinks = append(sinks, s.opts.LogWriter)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.Close()
		_, _ = io.Copy(io.MultiWriter(sinks...), r)
	}()
	s.proc, s.copyDone = proc, done
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	deadline := time.NewTimer(s.opts.StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	url := s.URL() + "/v1/.well-known/ready"
	for {
		select {
		case <-ctx.Done():
			return s.startFailure("start interrupted", ctx.Err())
		case <-deadline.C:
			return s.startFailure(fmt.Sprintf("not ready within %s (GET %s)", s.opts.StartTimeout, url), nil)
		case <-proc.Done():
			return s.startFailure("exited during start", proc.Err())
		case <-tick.C:
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := client.Do(req)
			if err != nil {
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// startFailure stops the process and describes why the start failed, with the log tail.
func (s *Server) startFailure(reason string, err error) error {
	// A fresh context: the caller's may be the reason we are failing.
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StopGrace+30*time.Second)
	defer cancel()
	_ = s.halt(ctx)
	tail := s.tail.Lines(errorTailLines)
	return &StartError{Hostname: s.opts.Hostname, Reason: reason, Tail: tail, Err: err,
		PortConflict: strings.Contains(tail, "address already in use")}
}

// halt stops the process (if any) and waits until its log is drained; the data folder stays.
func (s *Server) halt(ctx context.Context) error {
	s.mu.Lock()
	proc, done := s.proc, s.copyDone
	s.mu.Unlock()
	if proc == nil {
		return nil
	}
	err := proc.Stop(ctx, s.opts.StopGrace)
	if done != nil {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// The group is SIGKILLed; only an unrelated process inheriting the pipe could keep it open.
		}
	}
	if err != nil {
		return fmt.Errorf("launcher: stop %s: %w", s.opts.Hostname, err)
	}
	return nil
}

func (s *Server) cleanup() {
	if s.logFile != nil {
		_ = s.logFile.Close()
		s.logFile = nil
	}
	if s.ownDataDir {
		_ = os.RemoveAll(s.dataDir)
	}
}

// Stop terminates the server (SIGTERM to its process group, SIGKILL after the grace period),
// waits until it is gone, and removes the data folder if the launcher created it.
func (s *Server) Stop(ctx context.Context) error {
	err := s.halt(ctx)
	s.cleanup()
	return err
}

// Restart stops the server and starts it again on the same ports with the same data folder.
// It also starts a server that has exited or was halted.
func (s *Server) Restart(ctx context.Context) error {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.StopGrace+30*time.Second)
	err := s.halt(stopCtx)
	cancel()
	if err != nil {
		return err
	}
	return s.launch(ctx)
}

// URL is the REST base URL, e.g. http://127.0.0.1:8080.
func (s *Server) URL() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports.HTTP))
}

// GRPCAddr is the gRPC host:port.
func (s *Server) GRPCAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports.GRPC)) }

// GossipAddr is the memberlist host:port other nodes join.
func (s *Server) GossipAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports.Gossip))
}

// Ports returns the ports in use.
func (s *Server) Ports() Ports { return s.ports }

// DataDir is PERSISTENCE_DATA_PATH.
func (s *Server) DataDir() string { return s.dataDir }

// Hostname is CLUSTER_HOSTNAME.
func (s *Server) Hostname() string { return s.opts.Hostname }

// LogTail returns the last lines of the server's log.
func (s *Server) LogTail() string { return s.tail.Lines(errorTailLines) }

// Pid is the process id (which is also its process group id) of the current run; 0 if never started.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}
