package module

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
	"github.com/xqg/xqg/plugin/plugintest"
)

// These tests run the service on the real xqg-vectorizer plugin process (tiny models, real ONNX Runtime).
// Missing prerequisites skip them, or fail them under XQG_TEST_STRICT=1.

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

type realPlugin struct {
	host     *host.Host
	cacheDir string
	ts       *testService
}

func startReal(t *testing.T, batchSize int, withGenerator bool) *realPlugin {
	t.Helper()
	cfg := plugintest.Tiny(t, withGenerator)
	h := plugintest.Start(t, cfg, nil)
	ts := startService(t, h, Options{BatchSize: batchSize, BatchWait: 5 * time.Millisecond})
	return &realPlugin{host: h, cacheDir: cfg.Cache.Dir, ts: ts}
}

// countFiles counts the regular files under dir: the plugin writes one query-cache entry per passage it
// generated queries for, so an unchanged count shows that generation did not run.

// close reports whether two vectors agree to float32 rounding: a text encoded inside a padded batch
// takes different kernels than alone, which may move the last bits.
func closeVec(a, b []float32) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}

func (p *realPlugin) alonePassage(t *testing.T, text string, parts bool) plugin.PassageResult {
	t.Helper()
	res, err := p.host.EmbedPassages(context.Background(), []plugin.Passage{{ID: "alone", Text: text}}, plugin.Options{WithParts: parts})
	if err != nil || res[0].Err != nil {
		t.Fatalf("direct EmbedPassages: %v %v", err, res)
	}
	return res[0]
}

func (p *realPlugin) aloneQuery(t *testing.T, text string) []float32 {
	t.Helper()
	res, err := p.host.EmbedQueries(context.Background(), []string{text})
	if err != nil || res[0].Err != nil {
		t.Fatalf("direct EmbedQueries: %v %v", err, res)
	}
	return res[0].Vector
}

func TestRealPluginQueryContract(t *testing.T) {
	p := startReal(t, 16, false)
	info, err := p.host.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	meta, err := weaviateMeta(p.ts.client, p.ts.http.URL+"/meta")
	if err != nil || meta["dimension"] != float64(info.Dimension) || meta["ready"] != true {
		t.Fatalf("meta = %v, %v; want dimension %d", meta, err, info.Dimension)
	}
	var q wvVecRequest
	_ = json.Unmarshal(fixture(t, "transformers_query.json"), &q)
	got, _, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL, fixture(t, "transformers_query.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !closeVec(got.Vector, p.aloneQuery(t, q.Text)) || got.Dims != info.Dimension {
		t.Errorf("query vector differs from the plugin's own query encoding")
	}
	if h := p.ts.headers.last(); h.Get("Content-Type") != "" {
		t.Errorf("request carried Content-Type %q; Weaviate sends none", h.Get("Content-Type"))
	}
	vecs, _, err := weaviateNvidia(context.Background(), p.ts.client, p.ts.http.URL, "k", fixture(t, "nvidia_query.json"))
	if err != nil || len(vecs) != 1 || !closeVec(vecs[0], p.aloneQuery(t, "где находится Эйфелева башня")) {
		t.Fatalf("nvidia query: %v", err)
	}

	// Text over the model's maximum length is truncated and the answer says so.
	long := strings.Repeat("tower paris ", 300)
	code, h, _ := p.ts.post(t, "/vectors", "", vecBody(long, "query"))
	if code != 200 || h.Get(TruncatedHeader) != "true" {
		t.Errorf("long query: %d, %s=%q; want 200 and true", code, TruncatedHeader, h.Get(TruncatedHeader))
	}
}

func TestRealPluginPassageContract(t *testing.T) {
	p := startReal(t, 16, true)
	meta, err := weaviateMeta(p.ts.client, p.ts.http.URL+"/meta")
	if err != nil || meta["generation"] != true {
		t.Fatalf("meta = %v, %v; want generation", meta, err)
	}
	// Queries first: the query path must not generate (no query-cache entry appears).
	before := testenv.CountFiles(t, p.cacheDir)
	for _, f := range []string{"transformers_query.json", "nvidia_query.json"} {
		code, _, m := p.ts.post(t, map[bool]string{true: "/vectors", false: "/v1/embeddings"}[strings.HasPrefix(f, "transformers")], "", fixture(t, f))
		if code != 200 {
			t.Fatalf("%s: %d %v", f, code, m)
		}
	}
	if after := testenv.CountFiles(t, p.cacheDir); after != before {
		t.Errorf("query requests changed the query cache from %d to %d files: the query path generated", before, after)
	}

	var ps wvVecRequest
	_ = json.Unmarshal(fixture(t, "transformers_passage.json"), &ps)
	fused, _, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL, fixture(t, "transformers_passage.json"))
	if err != nil {
		t.Fatal(err)
	}
	if testenv.CountFiles(t, p.cacheDir) == before {
		t.Error("a passage request left no query-cache entry: did it generate?")
	}
	plain, _, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL+"/plain", fixture(t, "transformers_passage.json"))
	if err != nil {
		t.Fatal(err)
	}
	alone := p.alonePassage(t, ps.Text, true)
	if !closeVec(fused.Vector, alone.Vector) {
		t.Error("/vectors passage differs from the plugin's fused vector")
	}
	if !closeVec(plain.Vector, alone.PassageVector) {
		t.Error("/plain/vectors passage differs from the plugin's plain passage vector")
	}
	if closeVec(fused.Vector, plain.Vector) {
		t.Error("fused and plain passage vectors are equal: fusion did nothing")
	}

	var np wvEmbeddingsRequest
	_ = json.Unmarshal(fixture(t, "nvidia_passage.json"), &np)
	vecs, _, err := weaviateNvidia(context.Background(), p.ts.client, p.ts.http.URL, "k", fixture(t, "nvidia_passage.json"))
	if err != nil || len(vecs) != len(np.Input) {
		t.Fatalf("nvidia passage: %d vectors, %v", len(vecs), err)
	}
	for i, in := range np.Input {
		if !closeVec(vecs[i], p.alonePassage(t, in, false).Vector) {
			t.Errorf("nvidia passage %d differs from the plugin's fused vector", i)
		}
	}
}

// TestRealPluginPlainSkipsGeneration: /plain passages (the transformers and the nvidia shape) run no
// generation on a fresh query cache (no entry appears, /metrics counts no miss and no generation time),
// and the vector is exactly the passage_vector part of a WithParts call. A fused request afterwards
// does generate, so both observables can fail.
func TestRealPluginPlainSkipsGeneration(t *testing.T) {
	p := startReal(t, 16, true)
	ctx := context.Background()
	var ps wvVecRequest
	_ = json.Unmarshal(fixture(t, "transformers_passage.json"), &ps)
	plain, _, err := weaviateTransformers(ctx, p.ts.client, p.ts.http.URL+"/plain", fixture(t, "transformers_passage.json"))
	if err != nil {
		t.Fatal(err)
	}
	var np wvEmbeddingsRequest
	_ = json.Unmarshal(fixture(t, "nvidia_passage.json"), &np)
	vecs, _, err := weaviateNvidia(ctx, p.ts.client, p.ts.http.URL+"/plain", "k", fixture(t, "nvidia_passage.json"))
	if err != nil || len(vecs) != len(np.Input) {
		t.Fatalf("/plain nvidia passages: %d vectors, %v", len(vecs), err)
	}
	if n := testenv.CountFiles(t, p.cacheDir); n != 0 {
		t.Errorf("/plain passages left %d query-cache entries: they generated", n)
	}
	m := p.ts.metricsText(t)
	if !strings.Contains(m, "\nxqg_module_query_cache_misses_total 0\n") || !strings.Contains(m, "\nxqg_module_generation_seconds_per_passage_count 0\n") {
		t.Errorf("/plain passages counted as generated:\n%s", grepLines(m, "xqg_module_generation_seconds_per_passage_count")+"\n"+grepLines(m, "cache_misses"))
	}
	if _, sum := histogram(t, m, "xqg_module_batch_size", `task="plain"`); sum != float64(1+len(np.Input)) {
		t.Errorf("%v plain texts reached the backend, want %d", sum, 1+len(np.Input))
	}

	// Alone in its batch like the /plain request, so the encoding is bit for bit the same.
	parts := p.alonePassage(t, ps.Text, true)
	if !slices.Equal(plain.Vector, parts.PassageVector) {
		t.Error("/plain/vectors passage differs from the passage_vector part of a WithParts call")
	}
	for i, in := range np.Input {
		if !closeVec(vecs[i], p.alonePassage(t, in, true).PassageVector) {
			t.Errorf("/plain/v1/embeddings input %d differs from its passage_vector part", i)
		}
	}
	if closeVec(plain.Vector, parts.Vector) {
		t.Error("plain and fused passage vectors are equal: fusion did nothing")
	}

	// The observables are live: a fused request for a new passage generates, and both show it.
	before := testenv.CountFiles(t, p.cacheDir)
	if _, _, err := weaviateTransformers(ctx, p.ts.client, p.ts.http.URL, vecBody("Helsinki is the capital of Finland.", "passage")); err != nil {
		t.Fatal(err)
	}
	if n := testenv.CountFiles(t, p.cacheDir); n != before+1 {
		t.Errorf("a fused request for a new passage changed the query cache from %d to %d entries, want one more", before, n)
	}
	if m := p.ts.metricsText(t); !strings.Contains(m, "\nxqg_module_query_cache_misses_total 1\n") {
		t.Errorf("a fused request that generated is not counted:\n%s", grepLines(m, "cache_misses"))
	}
}

func TestRealPluginCoalescesConcurrentRequests(t *testing.T) {
	p := startReal(t, 32, false)
	const n = 200
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("question number %d about %s", i, strings.Repeat("towers ", i%7))
	}
	results := make([][]float32, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, _, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL, vecBody(texts[i], "query"))
			if err != nil {
				errs <- err
				return
			}
			results[i] = got.Vector
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, text := range texts {
		if !closeVec(results[i], p.aloneQuery(t, text)) {
			t.Errorf("request %d: vector differs from the one computed alone", i)
		}
	}
	m := p.ts.metricsText(t)
	count, sum := histogram(t, m, "xqg_module_batch_size", `task="query"`)
	if count >= n || sum != n {
		t.Errorf("%d requests went to the backend in %v batches (sum %v): not coalesced", n, count, sum)
	}
	t.Logf("%d concurrent requests → %v backend batches (mean %.1f)", n, count, sum/count)
}

// histogram reads a histogram's _count and _sum for the series with labels from Prometheus text.
func histogram(t *testing.T, text, name, labels string) (count, sum float64) {
	t.Helper()
	found := 0
	for _, l := range strings.Split(text, "\n") {
		for suffix, dst := range map[string]*float64{"_count": &count, "_sum": &sum} {
			prefix := name + suffix + "{" + labels + "} "
			if strings.HasPrefix(l, prefix) {
				if _, err := fmt.Sscan(strings.TrimPrefix(l, prefix), dst); err != nil {
					t.Fatal(err)
				}
				found++
			}
		}
	}
	if found != 2 {
		t.Fatalf("%s{%s} not in metrics:\n%s", name, labels, grepLines(text, name))
	}
	return count, sum
}

func TestRealPluginReadyAndDown(t *testing.T) {
	ts := startService(t, nil, Options{BatchSize: 8})
	if err := weaviateCheckReady(context.Background(), ts.client, ts.http.URL+"/.well-known/ready"); err == nil {
		t.Fatal("ready before the plugin started")
	}
	h := plugintest.Start(t, plugintest.Tiny(t, false), nil)
	ts.srv.Attach(h)
	ts.waitReady(t)
	if _, _, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, fixture(t, "transformers_query.json")); err != nil {
		t.Fatal(err)
	}
	// A closed host (the plugin stopped) is a 503 with a JSON message, and ready turns 503.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	_, status, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, fixture(t, "transformers_query.json"))
	if status != 503 || err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("plugin stopped: %d %v, want 503 unavailable", status, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for weaviateCheckReady(context.Background(), ts.client, ts.http.URL+"/.well-known/ready") == nil {
		if time.Now().After(deadline) {
			t.Fatal("still ready after the plugin stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRealPluginKilledUnderLoad kills the plugin with SIGKILL during a burst of requests: every request
// ends with a vector or a JSON 503 (none hangs or gets a 500): those caught by the crash are retried once
// the supervisor has restarted the plugin, and /metrics counts the restart and the retries.
func TestRealPluginKilledUnderLoad(t *testing.T) {
	p := startReal(t, 16, false)
	const n = 300
	codes := make([]int, n)
	msgs := make([]string, n)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Stagger the burst so that some requests are in flight when the plugin dies.
			time.Sleep(time.Duration(i%50) * time.Millisecond)
			sent.Add(1)
			resp, status, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL, vecBody(fmt.Sprintf("burst %d", i), "query"))
			codes[i] = status
			if err != nil {
				msgs[i] = err.Error()
				if resp == nil {
					msgs[i] = "no JSON answer: " + err.Error()
				}
			}
		}()
	}
	for sent.Load() < n/3 {
		time.Sleep(time.Millisecond)
	}
	pid := p.host.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	unavailable := 0
	for i, c := range codes {
		switch {
		case c == 200:
		case c == 503 && strings.Contains(msgs[i], "unavailable"):
			unavailable++
		default:
			t.Errorf("request %d: status %d %q, want 200 or a JSON 503", i, c, msgs[i])
		}
	}
	t.Logf("plugin %d killed: %d of %d requests got 503", pid, unavailable, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.host.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := weaviateTransformers(context.Background(), p.ts.client, p.ts.http.URL, fixture(t, "transformers_query.json")); err != nil {
		t.Errorf("after the restart: %v", err)
	}
	m := p.ts.metricsText(t)
	if !strings.Contains(m, "xqg_plugin_restarts_total 1") {
		t.Errorf("restart not counted:\n%s", grepLines(m, "restarts"))
	}
	if !strings.Contains(m, `xqg_module_retries_total{task="query"}`) {
		t.Errorf("no request was retried after the crash:\n%s", grepLines(m, "retries"))
	}
	t.Log(grepLines(m, "xqg_module_retries_total{"))
}
