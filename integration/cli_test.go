package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/search"
)

// xqgRun runs the xqg binary with the service's configuration file and returns stdout, stderr and
// the exit code.
func xqgRun(t *testing.T, svc *service, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(svc.bin, append([]string{"--config", svc.config}, args...)...)
	cmd.Env = append(os.Environ(), "XQG_CONFIG=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// The CLI end to end: xqg ingest (fast path and --via-weaviate, sharded), ingest status, query,
// collections, and the exit codes of bad input.
func TestCLI(t *testing.T) {
	svc, _ := startService(t, false)
	srv := serviceWeaviate(t, svc)
	sample := filepath.Join(testenv.RepoRoot(), "examples", "sample", "passages.jsonl")
	dir := t.TempDir()
	set := []string{"--set", "weaviate.url=" + srv.URL(), "--set", "weaviate.grpc_address=" + srv.GRPCAddr(),
		"--set", "weaviate.service_url=" + svc.URL(), "--set", "weaviate.collection=CliSample"}
	with := func(args ...string) []string { return append(append([]string{}, args...), set...) }

	for i := range 2 {
		out, errOut, code := xqgRun(t, svc, with("ingest", sample, "--shard", []string{"0/2", "1/2"}[i], "--checkpoint-dir", dir, "--batch-size", "8")...)
		if code != 0 || !strings.Contains(out, "failed 0") {
			t.Fatalf("xqg ingest shard %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
	}
	out, _, code := xqgRun(t, svc, "ingest", "status", "--checkpoint-dir", dir)
	if code != 0 || strings.Count(out, "done") != 2 || !strings.Contains(out, "0/2") || !strings.Contains(out, "2 shards") {
		t.Errorf("ingest status: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "40") {
		t.Errorf("ingest status does not total the 40 passages:\n%s", out)
	}

	out, errOut, code := xqgRun(t, svc, with("query", "Alexander Fleming penicillin mould", "-k", "3", "--json", "--target", "passage")...)
	var hits []search.Hit
	if code != 0 || json.Unmarshal([]byte(out), &hits) != nil || len(hits) != 3 || hits[0].Distance == nil {
		t.Fatalf("xqg query --json: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = xqgRun(t, svc, with("query", "honey bees", "--hybrid")...)
	if code != 0 || !strings.Contains(out, "SCORE") || !strings.Contains(out, "s01") {
		t.Errorf("xqg query --hybrid: exit %d\n%s", code, out)
	}
	out, _, code = xqgRun(t, svc, with("collections")...)
	if code != 0 || !strings.Contains(out, "CliSample") || !strings.Contains(out, "40") || !strings.Contains(out, "xqg (text2vec-transformers, cosine)") {
		t.Errorf("xqg collections: exit %d\n%s", code, out)
	}

	// --via-weaviate into a second collection; then a collection that differs from the configuration.
	out, errOut, code = xqgRun(t, svc, with("ingest", sample, "--via-weaviate", "--checkpoint-dir", dir, "--set", "weaviate.collection=CliVia")...)
	if code != 0 || !strings.Contains(out, "imported 40") {
		t.Fatalf("xqg ingest --via-weaviate: exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = xqgRun(t, svc, with("ingest", sample, "--restart", "--checkpoint-dir", dir, "--set", "weaviate.hnsw.maxConnections=8")...)
	if code != 2 || !strings.Contains(errOut, "hnsw maxConnections 32, want 8") {
		t.Errorf("incompatible collection: exit %d\n%s", code, errOut)
	}
	for _, bad := range [][]string{{"ingest", sample, "--shard", "3/2"}, {"query", "x", "--target", "nope"}, {"ingest", filepath.Join(dir, "missing.jsonl")}} {
		if _, errOut, code := xqgRun(t, svc, with(bad...)...); code != 2 {
			t.Errorf("xqg %v: exit %d, want 2\n%s", bad, code, errOut)
		}
	}
}

// xqg demo runs the whole pipeline and stops everything it started, also when interrupted.
func TestDemo(t *testing.T) {
	svc, _ := startService(t, false) // only for its configuration (plugin, ONNX Runtime)
	svc.stop()
	sample := filepath.Join(testenv.RepoRoot(), "examples", "sample")
	data := filepath.Join(t.TempDir(), "demo")
	out, errOut, code := xqgRun(t, svc, "demo", "--sample", sample, "--data", data, "--set", "encoder.model_dir=")
	if code != 0 {
		t.Fatalf("xqg demo: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "RANDOM") || !strings.Contains(out, "86 questions in 7 languages against 40 English passages") ||
		!strings.Contains(out, "xqg       hits@1") || !strings.Contains(out, "passage   hits@1") {
		t.Errorf("demo output:\n%s\n%s", out, errOut)
	}

	// Interrupted (SIGINT) while running: it exits and leaves no weaviate-server behind.
	cmd := exec.Command(svc.bin, "--config", svc.config, "demo", "--sample", sample, "--data", data, "--set", "encoder.model_dir=")
	cmd.Env = append(os.Environ(), "XQG_CONFIG=")
	var logb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logb.String(), "starting weaviate-server") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("xqg demo did not stop on SIGINT:\n%s", logb.String())
	}
	if procs := weaviateProcessesUsing(t, data); len(procs) > 0 {
		t.Errorf("weaviate-server still running after the interrupted demo: %v\n%s", procs, logb.String())
	}
}

// weaviateProcessesUsing lists the pids of processes whose environment names the data folder.
func weaviateProcessesUsing(t *testing.T, data string) []string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		if bytes.Contains(env, []byte("PERSISTENCE_DATA_PATH="+filepath.Join(data, "weaviate"))) {
			if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !bytes.Contains(st, []byte(") Z ")) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}
