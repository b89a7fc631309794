package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/plugintest"
)

// The xqg binary built from this checkout, once per test process (XQG_BIN overrides).
var (
	xqgOnce sync.Once
	xqgPath string
	xqgErr  error
)

func xqgBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("XQG_BIN"); p != "" {
		return p
	}
	xqgOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xqg-integration-")
		if err != nil {
			xqgErr = err
			return
		}
		xqgPath = filepath.Join(dir, "xqg")
		cmd := exec.Command("go", "build", "-o", xqgPath, "./cmd/xqg")
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			xqgErr = fmt.Errorf("go build ./cmd/xqg: %v\n%s", err, out)
		}
	})
	if xqgErr != nil {
		t.Fatal(xqgErr)
	}
	return xqgPath
}

// service is a real `xqg serve` process with the real plugin on the tiny models.
type service struct {
	t        testing.TB
	bin      string
	config   string
	addr     string
	cacheDir string
	proc     *procutil.Proc
	log      *bytes.Buffer
}

// URL is the base URL Weaviate's text2vec-transformers is pointed at.
func (s *service) URL() string { return "http://" + s.addr }

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startService writes a configuration for the tiny models and starts xqg serve on a free port.
func startService(t testing.TB, withGenerator bool) (*service, plugin.BackendConfig) {
	t.Helper()
	skipShort(t)
	cfg := plugintest.Tiny(t, withGenerator)
	return startServiceWith(t, cfg, withGenerator), cfg
}

// startServiceWith starts xqg serve on the models of cfg.
func startServiceWith(t testing.TB, cfg plugin.BackendConfig, withGenerator bool) *service {
	t.Helper()
	pluginBin := plugintest.Binary(t)
	s := &service{t: t, bin: xqgBinary(t), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), cacheDir: cfg.Cache.Dir}
	yaml := fmt.Sprintf(`module:
  listen: %q
  batch_size: 16
plugin:
  path: %q
  max_restarts: 3
ort:
  library_path: %q
encoder:
  model_dir: %q
  threads: %d
cache:
  dir: %q
`, s.addr, pluginBin, cfg.ORT.LibraryPath, cfg.Encoder.ModelDir, cfg.Encoder.Threads, cfg.Cache.Dir)
	if withGenerator {
		yaml += fmt.Sprintf("generator:\n  model_dir: %q\n  queries_per_language: %d\n  max_new_tokens: %d\n  threads: %d\n",
			cfg.Generator.ModelDir, cfg.Generator.QueriesPerLanguage, cfg.Generator.MaxNewTokens, cfg.Generator.Threads)
	}
	s.config = filepath.Join(t.TempDir(), "xqg.yaml")
	if err := os.WriteFile(s.config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *service) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "serve", "--config", s.config)
	cmd.Env = append(os.Environ(), "XQG_CONFIG=")
	s.log = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	p, err := procutil.Start(cmd)
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc = p
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(s.URL() + "/.well-known/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if p.Exited() || time.Now().After(deadline) {
			s.t.Fatalf("xqg serve not ready (exited=%v): %v\n%s", p.Exited(), err, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the service and its plugin (the whole process group).
func (s *service) stop() {
	if s.proc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.proc.Stop(ctx, 10*time.Second); err != nil {
		s.t.Logf("stop xqg serve: %v", err)
	}
	s.proc = nil
}

// metrics reads the service's Prometheus counters (name{labels} → value).
func (s *service) metrics() map[string]float64 {
	s.t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// serviceWeaviate starts Weaviate with text2vec-transformers pointed at svc, stopped at cleanup.
func serviceWeaviate(t testing.TB, svc *service) *launcher.Server {
	t.Helper()
	return ownWeaviate(t, transformersEnv(svc.URL())...)
}

// transformersEnv is how every Weaviate here (tests, cluster, demo, docker-compose.yml) is pointed at
// the service: one module, the same URL for passages and queries (the /plain passage path is set per
// collection). Weaviate does not wait for the service at startup, so a test can stop the service
// while Weaviate runs and restart either in any order. MODULES_CLIENT_TIMEOUT: the default 50s is
// less than generating queries for a batch of passages takes on a CPU, and a timed-out request makes
// Weaviate fail the object (ingest then retries it, generating again).
func transformersEnv(serviceURL string) []string {
	return []string{
		"ENABLE_MODULES=" + collection.Transformers,
		"TRANSFORMERS_PASSAGE_INFERENCE_API=" + serviceURL,
		"TRANSFORMERS_QUERY_INFERENCE_API=" + serviceURL,
		"TRANSFORMERS_WAIT_FOR_STARTUP=false",
		"MODULES_CLIENT_TIMEOUT=10m",
	}
}
