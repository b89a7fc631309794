package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
	"github.com/xqg/xqg/plugin/plugintest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperHost())
	}
	os.Exit(plugintest.Main(m))
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestRoundTrip(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), nil)
	ctx := ctxT(t)

	info, err := h.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Dimension <= 0 || info.Encoder.Name == "" || info.Encoder.SHA256 == "" || info.Generation ||
		info.Versions["onnxruntime"] == "" || info.Provider != "cpu" {
		t.Fatalf("Info = %+v: want a dimension, an encoder identity, no generation, the ORT version, provider cpu", info)
	}
	dim := info.Dimension

	qs, err := h.EmbedQueries(ctx, []string{"what is a cat", "", "what is a cat", "where is Tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 4 {
		t.Fatalf("%d results for 4 texts", len(qs))
	}
	if !errors.Is(qs[1].Err, plugin.ErrInvalidInput) || !strings.Contains(qs[1].Err.Error(), "texts[1]") {
		t.Errorf("empty text: err %v, want ErrInvalidInput naming texts[1]", qs[1].Err)
	}
	for _, i := range []int{0, 2, 3} {
		if qs[i].Err != nil || len(qs[i].Vector) != dim {
			t.Fatalf("query %d: err %v, %d dims (want %d)", i, qs[i].Err, len(qs[i].Vector), dim)
		}
	}
	if d := maxDiff(qs[0].Vector, qs[2].Vector); d != 0 {
		t.Errorf("same text, vectors differ by %g", d)
	}
	if d := maxDiff(qs[0].Vector, qs[3].Vector); d == 0 {
		t.Error("different texts, same vector")
	}

	given := map[string][]string{"ja": {"what is a cat", "where is Tokyo"}, "fi": {"mikä on kissa"}}
	passages := []plugin.Passage{
		{ID: "p1", Title: "Cat", Text: "The cat is a small domesticated carnivorous mammal."},
		{ID: "p2", Text: "   "},
		{ID: "p3", Title: "Tokyo", Text: "Tokyo is the capital of Japan.", Queries: given},
	}
	plain, err := h.EmbedPassages(ctx, passages, plugin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := h.EmbedPassages(ctx, passages, plugin.Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range [][]plugin.PassageResult{plain, parts} {
		if len(res) != 3 || res[0].ID != "p1" || res[1].ID != "p2" || res[2].ID != "p3" {
			t.Fatalf("results out of order: %+v", res)
		}
		if !errors.Is(res[1].Err, plugin.ErrInvalidInput) || !strings.Contains(res[1].Err.Error(), "passages[1].text") {
			t.Errorf("blank passage: err %v, want ErrInvalidInput naming passages[1].text", res[1].Err)
		}
	}
	if plain[0].PassageVector != nil || plain[0].Queries != nil {
		t.Error("parts returned without WithParts")
	}
	// No generator: the plain passage vector.
	if d := maxDiff(parts[0].Vector, parts[0].PassageVector); d != 0 || len(parts[0].Queries) != 0 {
		t.Errorf("passage without queries and without generator: fused differs from plain by %g, queries %v", d, parts[0].Queries)
	}
	if d := maxDiff(plain[2].Vector, parts[2].Vector); d != 0 {
		t.Errorf("with and without parts, vectors differ by %g", d)
	}
	// Given queries are fused: v = (1-α)p + α Σ q, and each q is the plain query encoding.
	p3 := parts[2]
	if len(p3.Queries["ja"]) != 2 || len(p3.Queries["fi"]) != 1 || len(p3.QueryVectors["ja"]) != 2 {
		t.Fatalf("parts of p3: queries %v, %d ja vectors", p3.Queries, len(p3.QueryVectors["ja"]))
	}
	if d := maxDiff(p3.QueryVectors["ja"][0], qs[0].Vector); d > 1e-6 {
		t.Errorf("a given query's vector differs from EmbedQueries of the same text by %g", d)
	}
	if d := maxDiff(p3.Vector, fuse(p3, info.Alpha)); d > 1e-5 {
		t.Errorf("vector != (1-α)·passage_vector + α·Σ query_vectors: off by %g", d)
	}
	if d := maxDiff(p3.Vector, p3.PassageVector); d == 0 {
		t.Error("given queries did not change the vector")
	}

	if err := h.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
}

// TestBadInputPerItem: bad items get their own error naming their index; the rest of the batch works.
func TestBadInputPerItem(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), nil)
	ctx := ctxT(t)
	qs, err := h.EmbedQueries(ctx, []string{"bad \xff utf-8", "fine", " \t\n", "also fine"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"texts[0] is not valid UTF-8", "", "texts[2] is empty", ""} {
		switch {
		case want == "" && (qs[i].Err != nil || len(qs[i].Vector) == 0):
			t.Errorf("texts[%d]: err %v, want a vector", i, qs[i].Err)
		case want != "" && (!errors.Is(qs[i].Err, plugin.ErrInvalidInput) || !strings.Contains(qs[i].Err.Error(), want)):
			t.Errorf("texts[%d]: err %v, want ErrInvalidInput saying %q", i, qs[i].Err, want)
		}
	}
	ps, err := h.EmbedPassages(ctx, []plugin.Passage{
		{ID: "a", Title: "\xc3", Text: "ok"},
		{ID: "b", Text: "ok"},
		{ID: "c", Text: ""},
		{ID: "d", Text: "ok", Queries: map[string][]string{"ja": {"\xe3\x81"}}},
	}, plugin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"passages[0].title", "", "passages[2].text is empty", "passages[3].generated_queries.ja[0]"} {
		switch {
		case ps[i].ID != string(rune('a'+i)):
			t.Errorf("result %d has id %q", i, ps[i].ID)
		case want == "" && (ps[i].Err != nil || len(ps[i].Vector) == 0):
			t.Errorf("passage %d: err %v, want a vector", i, ps[i].Err)
		case want != "" && (!errors.Is(ps[i].Err, plugin.ErrInvalidInput) || !strings.Contains(ps[i].Err.Error(), want)):
			t.Errorf("passage %d: err %v, want ErrInvalidInput naming %q", i, ps[i].Err, want)
		}
	}
}

func TestRoundTripGenerated(t *testing.T) {
	cfg := plugintest.Tiny(t, true)
	h := plugintest.Start(t, cfg, nil)
	ctx := ctxT(t)
	info, err := h.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Generation || info.Generator.Name == "" || info.QueriesPerLanguage != 2 || len(info.Languages) != 7 {
		t.Fatalf("Info = %+v: want generation with the tiny generator, 2 queries in 7 languages", info)
	}
	ps := []plugin.Passage{
		{ID: "gen", Title: "Tokyo", Text: "Tokyo is the capital of Japan."},
		{ID: "given", Text: "Helsinki is in Finland.", Queries: map[string][]string{"fi": {"missä on Helsinki"}}},
	}
	first, err := h.EmbedPassages(ctx, ps, plugin.Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	g := first[0]
	if g.Err != nil || g.CacheHit || g.GenerationTime <= 0 {
		t.Fatalf("first embedding of a new passage: err %v, cache hit %v, generation time %v: want generated", g.Err, g.CacheHit, g.GenerationTime)
	}
	for _, lang := range info.Languages {
		if len(g.Queries[lang]) != 2 || len(g.QueryVectors[lang]) != 2 {
			t.Errorf("%s: %d queries, %d vectors, want 2", lang, len(g.Queries[lang]), len(g.QueryVectors[lang]))
		}
	}
	if d := maxDiff(g.Vector, fuse(g, info.Alpha)); d > 1e-5 {
		t.Errorf("generated: vector != (1-α)·passage_vector + α·Σ query_vectors: off by %g", d)
	}
	given := first[1]
	if !given.CacheHit || len(given.Queries) != 1 || len(given.Queries["fi"]) != 1 {
		t.Errorf("given queries: cache hit %v, queries %v: want exactly the given ones, nothing generated", given.CacheHit, given.Queries)
	}
	again, err := h.EmbedPassages(ctx, ps[:1], plugin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !again[0].CacheHit || maxDiff(again[0].Vector, g.Vector) != 0 {
		t.Errorf("second embedding: cache hit %v, vector differs by %g: want the cached queries and the same vector",
			again[0].CacheHit, maxDiff(again[0].Vector, g.Vector))
	}
}

func fuse(r plugin.PassageResult, alpha float64) []float32 {
	out := make([]float32, len(r.PassageVector))
	for i, p := range r.PassageVector {
		s := 0.0
		for _, vs := range r.QueryVectors {
			for _, v := range vs {
				s += float64(v[i])
			}
		}
		out[i] = float32((1-alpha)*float64(p) + alpha*s)
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("question number %d about cats and the capital of Japan", i)
	}
	return out
}

// TestKillDuringRequest kills the plugin with SIGKILL while it works on a request: that request
// fails at once with a retryable error, the host restarts the plugin, and the next request works.
func TestKillDuringRequest(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), func(o *host.Options) { o.RestartBackoff = 100 * time.Millisecond })
	ctx := ctxT(t)
	oldPid := h.Pid()
	var err error
	var took time.Duration
	// The batch must outlast the kill's delay; grow it if the machine was faster than that.
	for n := 20000; ; n *= 4 {
		type result struct {
			err  error
			done time.Time
		}
		ch := make(chan result, 1)
		go func() {
			_, err := h.EmbedQueries(ctx, texts(n))
			ch <- result{err, time.Now()}
		}()
		time.Sleep(300 * time.Millisecond)
		killedAt := time.Now()
		if err := syscall.Kill(oldPid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r := <-ch
		if r.err == nil && r.done.Before(killedAt) && n < 1_000_000 {
			t.Logf("batch of %d finished before the kill; retrying with more", n)
			if err := h.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			oldPid = h.Pid()
			continue
		}
		err, took = r.err, r.done.Sub(killedAt)
		break
	}
	if err == nil {
		t.Fatal("request in flight during the kill succeeded")
	}
	if !plugin.Retryable(err) || !strings.Contains(err.Error(), "died") {
		t.Fatalf("in-flight error %v: want a retryable error saying the plugin died", err)
	}
	if took > 5*time.Second {
		t.Errorf("in-flight request failed %v after the kill, want at once", took)
	}
	t.Logf("in-flight request failed %v after the kill: %v", took, err)

	if err := h.WaitReady(ctx); err != nil {
		t.Fatalf("plugin did not come back: %v", err)
	}
	if h.Pid() == oldPid || h.Restarts() < 1 {
		t.Errorf("pid %d (was %d), %d restarts: want a new process", h.Pid(), oldPid, h.Restarts())
	}
	res, err := h.EmbedQueries(ctx, []string{"after the restart"})
	if err != nil || res[0].Err != nil || len(res[0].Vector) == 0 {
		t.Fatalf("request after restart: %v %+v", err, res)
	}
	if alive(oldPid) {
		t.Errorf("killed plugin %d still exists", oldPid)
	}
}

// TestHungPluginIsRestarted stops the plugin (SIGSTOP): it is alive but answers nothing, so the
// health checks fail and the host replaces it.
func TestHungPluginIsRestarted(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), func(o *host.Options) {
		o.HealthInterval = 100 * time.Millisecond
		o.HealthFailures = 2
	})
	ctx := ctxT(t)
	pid := h.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for h.Restarts() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if h.Restarts() == 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("a stopped plugin was not restarted")
	}
	if _, err := h.EmbedQueries(ctx, []string{"alive again"}); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Errorf("hung plugin %d still exists", pid)
	}
}

func TestGivesUpAfterMaxRestarts(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), func(o *host.Options) { o.MaxRestarts = 1 })
	ctx := ctxT(t)
	first := h.Pid()
	_ = syscall.Kill(first, syscall.SIGKILL)
	waitFor(t, "the first restart", func() bool { return h.Restarts() == 1 && h.Pid() != 0 })
	_ = syscall.Kill(h.Pid(), syscall.SIGKILL)
	waitFor(t, "the supervisor to give up", func() bool {
		err := h.WaitReady(ctx)
		return err != nil && strings.Contains(err.Error(), "gave up")
	})
	start := time.Now()
	_, err := h.EmbedQueries(ctx, []string{"x"})
	if !plugin.Retryable(err) || !strings.Contains(err.Error(), "gave up") || time.Since(start) > time.Second {
		t.Errorf("call after giving up: %v after %v, want an immediate ErrUnavailable", err, time.Since(start))
	}
	if h.Restarts() != 1 {
		t.Errorf("%d restarts, want max_restarts = 1", h.Restarts())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	h := plugintest.Start(t, plugintest.Tiny(t, false), nil)
	pid := h.Pid()
	if !alive(pid) {
		t.Fatalf("plugin %d not running", pid)
	}
	// A call in flight during Close fails with a clear error instead of hanging.
	inflight := make(chan error, 1)
	go func() {
		_, err := h.EmbedQueries(context.Background(), texts(200000))
		inflight <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-inflight:
		if !errors.Is(err, host.ErrClosed) {
			t.Errorf("call in flight during Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call in flight during Close still waiting 10s later")
	}
	if alive(pid) {
		t.Errorf("plugin %d survives Close", pid)
	}
	_, err := h.EmbedQueries(ctxT(t), []string{"x"})
	if !errors.Is(err, host.ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPluginLogsReachHost(t *testing.T) {
	var logs plugintest.Logs
	plugintest.Start(t, plugintest.Tiny(t, false), func(o *host.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	// "models loaded" is logged with slog inside the plugin process. It travels over the plugin's
	// stderr, which is read apart from the gRPC answer to Configure, so it may land after Start returns.
	reached := func(out string) bool {
		return strings.Contains(out, `msg="models loaded"`) && strings.Contains(out, "logger=xqg-vectorizer")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !reached(logs.String()) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if out := logs.String(); !reached(out) {
		t.Errorf("the plugin's log line did not reach the host logger:\n%s", out)
	}
}

func TestStartErrors(t *testing.T) {
	good := plugintest.Tiny(t, false)
	bin := plugintest.Binary(t)
	noModel := good
	noModel.Encoder.ModelDir = t.TempDir()
	tests := []struct {
		name string
		opts host.Options
		want string
	}{
		{"missing binary", host.Options{Path: "/nonexistent/xqg-vectorizer", Config: good}, "/nonexistent/xqg-vectorizer"},
		{"not a plugin", host.Options{Path: "/bin/true", Config: good}, "/bin/true"},
		{"bad encoder folder", host.Options{Path: bin, Config: noModel}, "encoder.model_dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.StartTimeout = 30 * time.Second
			h, err := host.Start(ctxT(t), tt.opts)
			if err == nil {
				h.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
			t.Log(err)
		})
	}
}

const helperEnv = "XQG_TEST_HELPER_HOST"

// helperHost is the test binary re-executed as a host process: it starts the plugin, prints its
// pid and waits to be killed.
func helperHost() int {
	var cfg plugin.BackendConfig
	if err := jsonUnmarshalConfig(os.Getenv(helperEnv), &cfg); err != nil {
		fmt.Println("error", err)
		return 1
	}
	h, err := host.Start(context.Background(), host.Options{Path: os.Getenv("XQG_TEST_HELPER_PLUGIN"), Config: cfg})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("pid", h.Pid())
	select {}
}

func jsonUnmarshalConfig(s string, c *plugin.BackendConfig) (err error) {
	*c, err = plugin.UnmarshalConfig([]byte(s))
	return err
}

// TestHostKilledTakesPluginDown kills a host process (SIGKILL: no chance to clean up, and SIGTERM
// without a handler) and checks that the kernel takes its plugin down too.
func TestHostKilledTakesPluginDown(t *testing.T) {
	cfg, err := plugin.MarshalConfig(plugintest.Tiny(t, false))
	if err != nil {
		t.Fatal(err)
	}
	bin := plugintest.Binary(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg), "XQG_TEST_HELPER_PLUGIN="+bin)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("helper host: %v", err)
			}
			var pid int
			if f := strings.Fields(line); len(f) == 2 && f[0] == "pid" {
				pid, _ = strconv.Atoi(f[1])
			}
			if pid <= 0 || !alive(pid) {
				t.Fatalf("helper host said %q", line)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("plugin %d outlived its host killed by %v", pid, sig)
			}
		})
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
