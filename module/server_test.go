package module

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testDim = 8

type testService struct {
	srv     *Server
	http    *httptest.Server
	headers *headerLog
	client  *http.Client
}

func startService(t *testing.T, b Backend, opts Options) *testService {
	t.Helper()
	if opts.HealthInterval == 0 {
		opts.HealthInterval = 20 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(opts)
	hl := &headerLog{next: s.Handler()}
	hs := httptest.NewServer(hl)
	t.Cleanup(func() { hs.Close(); s.Close() })
	ts := &testService{srv: s, http: hs, headers: hl, client: &http.Client{Timeout: 50 * time.Second}}
	if b != nil {
		s.Attach(b)
		ts.waitReady(t)
	}
	return ts
}

func (ts *testService) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := weaviateCheckReady(context.Background(), ts.client, ts.http.URL+"/.well-known/ready")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (ts *testService) post(t *testing.T, path, contentType string, body []byte) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: answer is not JSON (status %d): %q", path, res.StatusCode, raw)
	}
	return res.StatusCode, res.Header, m
}

func vecBody(text, taskType string) []byte {
	b, _ := json.Marshal(wvVecRequest{Text: text, Config: wvVecRequestConfig{PoolingStrategy: "masked_mean", TaskType: taskType}})
	return b
}

func equalVec(a, b []float32) bool { return slices.Equal(a, b) }

func TestReadyOnlyOnceBackendIsUp(t *testing.T) {
	ts := startService(t, nil, Options{BatchSize: 8})
	ready := ts.http.URL + "/.well-known/ready"
	if err := weaviateCheckReady(context.Background(), ts.client, ready); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("ready before a backend: err = %v, want status 503", err)
	}
	res, err := ts.client.Get(ready)
	if err != nil {
		t.Fatal(err)
	}
	var e map[string]string
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e["error"] == "" {
		t.Errorf("ready 503 body: %v %v, want a JSON error", e, err)
	}
	res.Body.Close()
	for _, p := range []string{"/.well-known/live", "/plain/.well-known/live"} {
		if res, err := ts.client.Get(ts.http.URL + p); err != nil || res.StatusCode != 200 {
			t.Errorf("%s before a backend: %v %v, want 200", p, res, err)
		}
	}
	resp, _, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, fixture(t, "transformers_query.json"))
	if err == nil || !strings.Contains(err.Error(), "503") || resp.Error == "" {
		t.Errorf("vectors before a backend: %v, want a 503 with a message", err)
	}
	meta, err := weaviateMeta(ts.client, ts.http.URL+"/meta")
	if err != nil || meta["ready"] != false {
		t.Errorf("meta before a backend: %v %v, want ready false", meta, err)
	}

	b := newHashBackend(testDim)
	b.healthy.Store(false)
	ts.srv.Attach(b)
	time.Sleep(100 * time.Millisecond)
	if err := weaviateCheckReady(context.Background(), ts.client, ready); err == nil {
		t.Fatal("ready while the backend's health check fails")
	}
	b.healthy.Store(true)
	ts.waitReady(t)
	meta, err = weaviateMeta(ts.client, ts.http.URL+"/meta")
	if err != nil {
		t.Fatal(err)
	}
	if meta["dimension"] != float64(testDim) || meta["ready"] != true || meta["passage_vector"] != "xqg_fused" {
		t.Errorf("meta = %v", meta)
	}
	if enc, _ := meta["encoder"].(map[string]any); enc["name"] != "hash-encoder" {
		t.Errorf("meta encoder = %v", meta["encoder"])
	}
	meta, _ = weaviateMeta(ts.client, ts.http.URL+"/plain/meta")
	if meta["passage_vector"] != "plain" {
		t.Errorf("plain meta = %v", meta)
	}
}

func TestWeaviateTransformersContract(t *testing.T) {
	for _, batch := range []int{1, 16} {
		t.Run(fmt.Sprintf("batch_size=%d", batch), func(t *testing.T) {
			b := newHashBackend(testDim)
			ts := startService(t, b, Options{BatchSize: batch})
			cases := []struct {
				prefix, file string
				want         func(text string) []float32
				task         string
			}{
				{"", "transformers_passage.json", func(s string) []float32 { return hashVector("fused", s, testDim) }, "passage"},
				{"", "transformers_query.json", func(s string) []float32 { return hashVector("query", s, testDim) }, "query"},
				{"/plain", "transformers_passage.json", func(s string) []float32 { return hashVector("passage", s, testDim) }, "plain"},
				{"/plain", "transformers_query.json", func(s string) []float32 { return hashVector("query", s, testDim) }, "query"},
				{"", "transformers_dimensions.json", func(s string) []float32 { return hashVector("fused", s, testDim) }, "passage"},
				// A base URL with a trailing slash makes Weaviate request "//vectors".
				{"/", "transformers_query.json", func(s string) []float32 { return hashVector("query", s, testDim) }, "query"},
			}
			for _, c := range cases {
				t.Run(c.prefix+"/"+c.file, func(t *testing.T) {
					body := fixture(t, c.file)
					var sent wvVecRequest
					if err := json.Unmarshal(body, &sent); err != nil {
						t.Fatal(err)
					}
					got, _, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL+c.prefix, body)
					if err != nil {
						t.Fatal(err)
					}
					if !equalVec(got.Vector, c.want(sent.Text)) || got.Dims != testDim || got.Text != sent.Text {
						t.Errorf("answer = %+v, want the %s vector of %q with dims %d", got, c.task, sent.Text, testDim)
					}
					h := ts.headers.last()
					if h.Get("Content-Type") != "" || h.Get("User-Agent") != "Go-http-client/1.1" {
						t.Errorf("request headers %v are not what Weaviate's Go client sends", h)
					}
				})
			}
		})
	}
}

func TestWeaviateTransformersErrorsReachWeaviate(t *testing.T) {
	b := newHashBackend(16)
	ts := startService(t, b, Options{BatchSize: 4})
	_, status, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, fixture(t, "transformers_dimensions.json"))
	if status != 400 || err == nil || !strings.Contains(err.Error(), "config.dimensions 8") || !strings.Contains(err.Error(), "16") {
		t.Errorf("dimensions 8 on a 16-dimensional model: %d %v, want 400 naming both", status, err)
	}
}

func TestNvidiaContract(t *testing.T) {
	b := newHashBackend(testDim)
	ts := startService(t, b, Options{BatchSize: 16})
	for _, c := range []struct {
		prefix, file, vec string
	}{
		{"", "nvidia_passage.json", "fused"},
		{"", "nvidia_query.json", "query"},
		{"/plain", "nvidia_passage.json", "passage"},
	} {
		t.Run(c.prefix+"/"+c.file, func(t *testing.T) {
			body := fixture(t, c.file)
			var sent wvEmbeddingsRequest
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatal(err)
			}
			vecs, res, err := weaviateNvidia(context.Background(), ts.client, ts.http.URL+c.prefix, "any-key", body)
			if err != nil {
				t.Fatal(err)
			}
			if len(vecs) != len(sent.Input) {
				t.Fatalf("%d vectors for %d inputs", len(vecs), len(sent.Input))
			}
			for i, in := range sent.Input {
				if !equalVec(vecs[i], hashVector(c.vec, in, testDim)) {
					t.Errorf("vector %d is not the %s vector of input %d", i, c.vec, i)
				}
			}
			if res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			if h := ts.headers.last(); h.Get("Authorization") != "Bearer any-key" {
				t.Errorf("Authorization %q", h.Get("Authorization"))
			}
		})
	}
	// The OpenAI shape, checked field by field.
	code, _, m := ts.post(t, "/v1/embeddings", "application/json", []byte(`{"input":"hello","input_type":"query","model":"m"}`))
	if code != 200 || m["object"] != "list" || m["model"] != "m" {
		t.Fatalf("openai answer %d %v", code, m)
	}
	d := m["data"].([]any)[0].(map[string]any)
	if d["object"] != "embedding" || d["index"] != float64(0) || len(d["embedding"].([]any)) != testDim {
		t.Errorf("data[0] = %v", d)
	}
	if _, ok := m["usage"].(map[string]any)["prompt_tokens"]; !ok {
		t.Errorf("usage = %v", m["usage"])
	}
	// Weaviate's nvidia client reads "message" from a 400.
	_, _, err := weaviateNvidia(context.Background(), ts.client, ts.http.URL, "k", []byte(`{"input":["ok",""],"input_type":"passage"}`))
	if err == nil || !strings.Contains(err.Error(), "status: 400 error: input[1] is empty") {
		t.Errorf("empty input through the nvidia client: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	b := newHashBackend(testDim)
	ts := startService(t, b, Options{BatchSize: 4, BodyLimit: 4096})
	big := vecBody(strings.Repeat("a", 5000), "query")
	cases := []struct {
		name, path string
		body       []byte
		status     int
		msg        string
	}{
		{"empty body", "/vectors", nil, 400, "request body is empty"},
		{"not JSON", "/vectors", []byte(`{"text": "a",`), 400, "invalid JSON"},
		{"trailing garbage", "/vectors", []byte(`{"text":"a","config":{"task_type":"query"}} x`), 400, "invalid JSON"},
		{"text not a string", "/vectors", []byte(`{"text": 3, "config":{"task_type":"query"}}`), 400, "text must be a string"},
		{"config not an object", "/vectors", []byte(`{"text": "a", "config": "query"}`), 400, "config must be an object"},
		{"empty text", "/vectors", vecBody("", "query"), 400, "text is empty"},
		{"whitespace text", "/vectors", vecBody(" \t\n ", "passage"), 400, "text is only whitespace"},
		{"missing text", "/vectors", []byte(`{"config":{"task_type":"query"}}`), 400, "text is empty"},
		{"invalid UTF-8", "/vectors", []byte("{\"text\":\"caf\xe9\",\"config\":{\"task_type\":\"query\"}}"), 400, "not valid UTF-8 (first bad byte at offset 12)"},
		{"unknown task_type", "/vectors", vecBody("a", "document"), 400, `config.task_type "document" is unknown`},
		{"missing task_type", "/vectors", vecBody("a", ""), 400, "config.task_type is missing"},
		{"negative dimensions", "/vectors", []byte(`{"text":"a","config":{"task_type":"query","dimensions":-1}}`), 400, "config.dimensions -1 must be positive"},
		{"too large", "/vectors", big, 413, "exceeds the limit of 4096 bytes"},
		{"backend rejects", "/vectors", vecBody("REJECT me", "passage"), 400, "passage 0 rejected"},
		{"nvidia no input", "/v1/embeddings", []byte(`{"input_type":"query"}`), 400, "input is missing"},
		{"nvidia empty array", "/v1/embeddings", []byte(`{"input":[],"input_type":"query"}`), 400, "input is an empty array"},
		{"nvidia not strings", "/v1/embeddings", []byte(`{"input":["a",2],"input_type":"query"}`), 400, "input[1] must be a string"},
		{"nvidia whitespace", "/v1/embeddings", []byte(`{"input":["a","  "],"input_type":"query"}`), 400, "input[1] is only whitespace"},
		{"nvidia unknown input_type", "/v1/embeddings", []byte(`{"input":["a"],"input_type":"doc"}`), 400, `input_type "doc" is unknown`},
		{"nvidia missing input_type", "/v1/embeddings", []byte(`{"input":["a"]}`), 400, "input_type is missing"},
		{"nvidia base64", "/v1/embeddings", []byte(`{"input":["a"],"input_type":"query","encoding_format":"base64"}`), 400, "encoding_format"},
		{"nvidia truncate START", "/v1/embeddings", []byte(`{"input":["a"],"input_type":"query","truncate":"START"}`), 400, "START"},
		{"nvidia too many", "/v1/embeddings", []byte(`{"input":[` + strings.Repeat(`"a",`, MaxEmbeddingInputs) + `"a"],"input_type":"query"}`), 400, "at most 256"},
		{"nvidia too large", "/v1/embeddings", []byte(`{"input":["` + strings.Repeat("a", 5000) + `"],"input_type":"query"}`), 413, "exceeds the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, m := ts.post(t, c.path, "", c.body)
			msg, _ := m["error"].(string)
			if c.path == "/v1/embeddings" {
				msg, _ = m["message"].(string)
				if e, _ := m["error"].(map[string]any); e["message"] != msg {
					t.Errorf("error.message %v differs from message %q", m["error"], msg)
				}
			}
			if code != c.status || !strings.Contains(msg, c.msg) {
				t.Errorf("got %d %q, want %d containing %q", code, msg, c.status, c.msg)
			}
		})
	}
	for _, c := range []struct{ method, path string }{{"GET", "/vectors"}, {"POST", "/meta"}, {"GET", "/nope"}} {
		req, _ := http.NewRequest(c.method, ts.http.URL+c.path, nil)
		res, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil || m["error"] == "" || res.StatusCode < 400 {
			t.Errorf("%s %s: %d %v %v, want a JSON 4xx", c.method, c.path, res.StatusCode, m, err)
		}
		res.Body.Close()
	}
}

func TestTruncationIsReported(t *testing.T) {
	ts := startService(t, newHashBackend(testDim), Options{BatchSize: 4})
	long := strings.Repeat("word ", 40)
	_, h, _ := ts.post(t, "/vectors", "", vecBody(long, "query"))
	if h.Get(TruncatedHeader) != "true" {
		t.Errorf("long text: %s = %q, want true", TruncatedHeader, h.Get(TruncatedHeader))
	}
	_, h, _ = ts.post(t, "/vectors", "", vecBody("short", "query"))
	if h.Get(TruncatedHeader) != "" {
		t.Errorf("short text reported truncated")
	}
	body, _ := json.Marshal(map[string]any{"input": []string{"short", long}, "input_type": "passage"})
	_, h, _ = ts.post(t, "/v1/embeddings", "", body)
	if h.Get(TruncatedHeader) != "true" || h.Get(TruncatedInputsHeader) != "1" {
		t.Errorf("embeddings headers %v, want input 1 truncated", h)
	}
}

func TestBackendDownIs503(t *testing.T) {
	b := newHashBackend(testDim)
	ts := startService(t, b, Options{BatchSize: 4})
	b.healthy.Store(false)
	_, status, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, fixture(t, "transformers_passage.json"))
	if status != 503 || err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("backend down: %d %v, want 503 saying unavailable", status, err)
	}
	code, _, m := ts.post(t, "/v1/embeddings", "", fixture(t, "nvidia_query.json"))
	if code != 503 || !strings.Contains(fmt.Sprint(m["message"]), "unavailable") {
		t.Errorf("embeddings with backend down: %d %v", code, m)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	for _, batch := range []int{1, 8} {
		t.Run(fmt.Sprintf("batch_size=%d", batch), func(t *testing.T) {
			ts := startService(t, newHashBackend(testDim), Options{BatchSize: batch})
			code, _, m := ts.post(t, "/vectors", "", vecBody("PANIC", "query"))
			if code != 500 || !strings.Contains(fmt.Sprint(m["error"]), "told to panic") {
				t.Errorf("panic: %d %v, want 500 with the panic's message", code, m)
			}
			if code, _, _ := ts.post(t, "/vectors", "", vecBody("fine", "query")); code != 200 {
				t.Errorf("after a panic: %d, want the service still serving", code)
			}
			if !strings.Contains(ts.metricsText(t), "xqg_module_panics_total 1") {
				t.Error("panic not counted")
			}
		})
	}
}

func (ts *testService) metricsText(t *testing.T) string {
	t.Helper()
	res, err := ts.client.Get(ts.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// concurrentQueries sends n queries at once through Weaviate's client shape and checks each answer
// against want(text).
func concurrentQueries(t *testing.T, ts *testService, n int, taskType string, want func(string) []float32) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			text := fmt.Sprintf("question number %d about towers", i)
			got, _, err := weaviateTransformers(context.Background(), ts.client, ts.http.URL, vecBody(text, taskType))
			if err != nil {
				errs <- err
				return
			}
			if w := want(text); !equalVec(got.Vector, w) {
				errs <- fmt.Errorf("request %d: vector differs from the one computed alone", i)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConcurrentRequestsAreCoalesced(t *testing.T) {
	b := newHashBackend(testDim)
	b.delay = 2 * time.Millisecond
	ts := startService(t, b, Options{BatchSize: 32, BatchWait: 20 * time.Millisecond})
	concurrentQueries(t, ts, 200, "query", func(s string) []float32 { return hashVector("query", s, testDim) })
	if m := b.maxQueryBatch(); m <= 1 {
		t.Errorf("largest backend batch %d, want > 1", m)
	}
	if b.generated != 0 {
		t.Errorf("the query path generated for %d passages", b.generated)
	}
	text := ts.metricsText(t)
	if !strings.Contains(text, `xqg_module_batch_size_count{task="query"}`) || strings.Contains(text, `xqg_module_batch_size_count{task="query"} 200`) {
		t.Errorf("batch size metric does not show coalescing:\n%s", grepLines(text, "xqg_module_batch_size_count"))
	}
	if !strings.Contains(text, `xqg_module_requests_total{code="200",endpoint="vectors",task="query"} 200`) {
		t.Errorf("request metric:\n%s", grepLines(text, "xqg_module_requests_total"))
	}
	if !strings.Contains(text, "xqg_plugin_restarts_total 3") {
		t.Errorf("restarts metric:\n%s", grepLines(text, "restarts"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestBatchingDisabled(t *testing.T) {
	b := newHashBackend(testDim)
	ts := startService(t, b, Options{BatchSize: 1})
	concurrentQueries(t, ts, 50, "query", func(s string) []float32 { return hashVector("query", s, testDim) })
	if m := b.maxQueryBatch(); m != 1 {
		t.Errorf("batch_size 1: largest backend batch %d, want 1", m)
	}
}

func TestBadItemFailsOnlyItsCaller(t *testing.T) {
	b := newHashBackend(testDim)
	b.block = make(chan struct{})
	ts := startService(t, b, Options{BatchSize: 2, BatchWait: 5 * time.Second})
	texts := []string{"good one", "REJECT this", "good two"}
	codes := make([]int, len(texts))
	var wg sync.WaitGroup
	send := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = ts.post(t, "/vectors", "", vecBody(texts[i], "passage"))
		}()
	}
	// The first request keeps the backend busy, so the other two queue and share the next batch.
	send(0)
	for b.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	send(1)
	send(2)
	for b.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(b.block)
	wg.Wait()
	if !slices.Equal(codes, []int{200, 400, 200}) {
		t.Errorf("status codes %v, want [200 400 200]", codes)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if got := slices.Sorted(slices.Values(b.passageBatches)); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("passage batches %v, want [1 2]: the bad item shared its batch", b.passageBatches)
	}
}

func TestLoneCallerDoesNotWait(t *testing.T) {
	b := newHashBackend(testDim)
	ts := startService(t, b, Options{BatchSize: 32, BatchWait: 10 * time.Second})
	done := make(chan struct{})
	go func() {
		ts.post(t, "/vectors", "", vecBody("alone", "query"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a lone request waited for the batch to fill")
	}
}

func TestBatcherCancelledCaller(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var seen [][]int
	run := func(ctx context.Context, in []int) ([]int, error) {
		mu.Lock()
		seen = append(seen, slices.Clone(in))
		mu.Unlock()
		<-release
		return in, nil
	}
	b := newBatcher(4, 50*time.Millisecond, run)
	defer b.Close()

	// First batch occupies the backend; the next two batches' callers then wait.
	go func() { _, _ = b.Do(context.Background(), 1) }()
	time.Sleep(80 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := b.Do(ctx, 2)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a cancelled caller hung")
	}
	got := make(chan int, 1)
	go func() {
		v, _ := b.Do(context.Background(), 3)
		got <- v
	}()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if v := <-got; v != 3 {
		t.Errorf("caller 3 got %d", v)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, batch := range seen {
		if slices.Contains(batch, 2) {
			t.Errorf("batches %v: the cancelled caller's item was computed", seen)
		}
	}
}

func TestBatcherCloseFailsWaitingCallers(t *testing.T) {
	b := newBatcher(4, time.Hour, func(ctx context.Context, in []int) ([]int, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	errc := make(chan error, 1)
	go func() {
		_, err := b.Do(context.Background(), 1)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("a caller got no error after Close")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a caller hung across Close")
	}
	if _, err := b.Do(context.Background(), 2); !errors.Is(err, errBatcherClosed) {
		t.Errorf("Do after Close: %v", err)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	b := newHashBackend(testDim)
	b.block = make(chan struct{})
	s := New(Options{BatchSize: 4, HealthInterval: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.Attach(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 5*time.Second) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	for !s.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	inflight := make(chan error, 1)
	go func() {
		_, _, err := weaviateTransformers(context.Background(), client, base, vecBody("in flight", "query"))
		inflight <- err
	}()
	for b.calls.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(b.block)
	if err := <-inflight; err != nil {
		t.Errorf("in-flight request during shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := client.Get(base + "/.well-known/live"); err == nil {
		t.Error("still serving after shutdown")
	}
}
