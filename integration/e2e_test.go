package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/search"
)

// serviceVector asks the service what Weaviate would get: path "" (fused passage / query) or "/plain".
func serviceVector(t *testing.T, base, path, text, task string) []float32 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"text": text, "config": map[string]any{"task_type": task}})
	resp, err := http.Post(base+path+"/vectors", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Vector []float32 `json:"vector"`
		Error  string    `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("service %s%s/vectors: %d %v %s", base, path, resp.StatusCode, err, out.Error)
	}
	return out.Vector
}

// The whole path through a real Weaviate with text2vec-transformers calling a real `xqg serve`:
// fast-path and via-Weaviate ingest agree with the service, nearText on each named vector runs only
// the query path, create/update/delete re-vectorize, and the service going down fails objects cleanly.
func TestServiceEndToEnd(t *testing.T) {
	svc, cfg := startService(t, true) // with the tiny generator: the xqg vector is fused, not the plain one
	srv := serviceWeaviate(t, svc)
	ctx := ctxT(t, 3*time.Minute)
	const n = 24
	input := writeCorpus(t, n)

	via := weaviateConfig(srv, "ViaWeaviate")
	via.ServiceURL = svc.URL()
	fast := weaviateConfig(srv, "FastPath")
	fast.ServiceURL = svc.URL()
	c := connect(t, via, true)

	// --via-weaviate: Weaviate calls the service for each object and each named vector.
	sum, err := ingest.Run(ctx, ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(via),
		BatchSize: 8, CheckpointDir: t.TempDir()})
	if err != nil || sum.Imported != n || sum.Failed != 0 {
		t.Fatalf("via weaviate: %+v %v", sum, err)
	}
	// Fast path: the plugin computes both vectors, the client imports them; Weaviate vectorizes nothing.
	before := svc.metrics()
	h := plugintest.Start(t, cfg, nil)
	sum, err = ingest.Run(ctx, ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(fast),
		Embedder: ingest.PluginEmbedder{V: h}, BatchSize: 8, CheckpointDir: t.TempDir()})
	if err != nil || sum.Imported != n || sum.Failed != 0 {
		t.Fatalf("fast path: %+v %v", sum, err)
	}
	after := svc.metrics()
	for _, task := range []string{"passage", "plain"} {
		k := fmt.Sprintf(`xqg_module_backend_items_total{task=%q}`, task)
		if after[k] != before[k] {
			t.Errorf("the fast path made Weaviate call the service (%s %v → %v)", k, before[k], after[k])
		}
	}

	// Stored vectors equal the service's for the object's text (xqg: the passage path; passage: /plain),
	// and the fast path stored the same.
	for _, id := range []string{"p000", "p013", "p023"} {
		i := 0
		fmt.Sscanf(id, "p%d", &i)
		p := corpusPassage(i)
		wantX := serviceVector(t, svc.URL(), "", p.WeaviateText(), "passage")
		wantP := serviceVector(t, svc.URL(), collection.PlainPath, p.WeaviateText(), "passage")
		for _, coll := range []string{via.Collection, fast.Collection} {
			objs, err := c.Data().ObjectsGetter().WithClassName(coll).WithID(ingest.ObjectID(id)).WithVector().Do(ctx)
			if err != nil || len(objs) != 1 {
				t.Fatalf("%s %s: %v", coll, id, err)
			}
			assertClose(t, coll+" "+id+" xqg", objs[0].Vectors[collection.VectorXQG], wantX, 1e-5)
			assertClose(t, coll+" "+id+" passage", objs[0].Vectors[collection.VectorPassage], wantP, 1e-5)
		}
	}

	// Generation ran at ingest: the fused vector is not the plain one.
	if gen := before["xqg_module_generation_seconds_per_passage_count"]; gen < n {
		t.Errorf("generation ran for %v passages during the via-weaviate ingest, want %d", gen, n)
	}
	if x, p := serviceVector(t, svc.URL(), "", corpusPassage(1).WeaviateText(), "passage"),
		serviceVector(t, svc.URL(), collection.PlainPath, corpusPassage(1).WeaviateText(), "passage"); maxAbsDiff(x, p) < 1e-4 {
		t.Errorf("the xqg vector equals the plain one (max diff %g): no fusion", maxAbsDiff(x, p))
	}

	// nearText on each named vector: Weaviate encodes the query through the query path only.
	target := corpusPassage(5)
	before = svc.metrics()
	cached := testenv.CountFiles(t, svc.cacheDir)
	if cached == 0 {
		t.Errorf("no query-cache entries in %s after ingesting with generation", svc.cacheDir)
	}
	for _, tv := range []string{collection.VectorXQG, collection.VectorPassage} {
		hits, err := search.Query(ctx, c, search.Request{Collection: via.Collection, Text: target.WeaviateText(), Target: tv, K: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 5 {
			t.Fatalf("nearText on %s: %d hits", tv, len(hits))
		}
		// The query encoding of a passage's own text is its plain vector exactly; its fused vector is near.
		if tv == collection.VectorPassage && (hits[0].PassageID != "p005" || *hits[0].Distance > 1e-4) {
			t.Errorf("nearText on passage: top %s at %v, want p005 at ~0", hits[0].PassageID, *hits[0].Distance)
		}
		if tv == collection.VectorXQG && !slices.ContainsFunc(hits, func(h search.Hit) bool { return h.PassageID == "p005" }) {
			t.Errorf("nearText on xqg: p005 not in the top 5 %v", hitIDs(hits))
		}
	}
	after = svc.metrics()
	if got := testenv.CountFiles(t, svc.cacheDir); got != cached {
		t.Errorf("queries wrote %d query-cache entries: generation ran at query time", got-cached)
	}
	if q := `xqg_module_backend_items_total{task="query"}`; after[q] < before[q]+2 {
		t.Errorf("Weaviate did not call the query path: %s %v → %v", q, before[q], after[q])
	}
	for _, k := range []string{`xqg_module_backend_items_total{task="passage"}`, `xqg_module_backend_items_total{task="plain"}`,
		"xqg_module_generation_seconds_per_passage_count", "xqg_module_query_cache_misses_total"} {
		if after[k] != before[k] {
			t.Errorf("a query ran the passage/generation path: %s %v → %v", k, before[k], after[k])
		}
	}

	// nearVector, hybrid, and where + nearText.
	qv := serviceVector(t, svc.URL(), "", target.WeaviateText(), "query")
	hits, err := search.Query(ctx, c, search.Request{Collection: via.Collection, Vector: qv, Target: collection.VectorPassage, K: 3})
	if err != nil || len(hits) != 3 || hits[0].PassageID != "p005" {
		t.Errorf("nearVector: %+v %v", hits, err)
	}
	hits, err = search.Query(ctx, c, search.Request{Collection: via.Collection, Mode: search.Hybrid, Text: "satellite", Target: collection.VectorXQG, K: 3})
	if err != nil || len(hits) != 3 || !strings.Contains(hits[0].Text, "satellite") {
		t.Errorf("hybrid: %+v %v", hits, err)
	}
	hits, err = search.Query(ctx, c, search.Request{Collection: via.Collection, Text: target.WeaviateText(), Target: collection.VectorXQG, K: 5,
		Where: map[string]string{collection.PropTitle: "Topic 2"}})
	if err != nil || len(hits) != 3 {
		t.Errorf("where + nearText: %d hits %v", len(hits), err)
	}
	for _, h := range hits {
		if h.Title != "Topic 2" {
			t.Errorf("where + nearText returned %s (%s)", h.PassageID, h.Title)
		}
	}

	// Single-object create (Weaviate vectorizes), update (re-vectorizes), delete.
	id := ingest.ObjectID("single")
	props := map[string]any{collection.PropPassageID: "single", collection.PropTitle: "Lone", collection.PropText: "A lighthouse on a rock."}
	if _, err := c.Data().Creator().WithClassName(via.Collection).WithID(id).WithProperties(props).Do(ctx); err != nil {
		t.Fatal(err)
	}
	props[collection.PropText] = "A windmill in a field."
	if err := c.Data().Updater().WithClassName(via.Collection).WithID(id).WithProperties(props).Do(ctx); err != nil {
		t.Fatal(err)
	}
	objs, err := c.Data().ObjectsGetter().WithClassName(via.Collection).WithID(id).WithVector().Do(ctx)
	if err != nil || len(objs) != 1 {
		t.Fatalf("get single: %v", err)
	}
	updated := ingest.Passage{Title: "Lone", Text: "A windmill in a field."}
	assertClose(t, "updated xqg", objs[0].Vectors[collection.VectorXQG], serviceVector(t, svc.URL(), "", updated.WeaviateText(), "passage"), 1e-5)
	assertClose(t, "updated passage", objs[0].Vectors[collection.VectorPassage], serviceVector(t, svc.URL(), collection.PlainPath, updated.WeaviateText(), "passage"), 1e-5)
	if err := c.Data().Deleter().WithClassName(via.Collection).WithID(id).Do(ctx); err != nil {
		t.Fatal(err)
	}

	// The service down during a --via-weaviate import: every object fails with the reason, none is
	// half-written, and re-running on the failed file imports them.
	extra := writeExtraCorpus(t, 6)
	svc.stop()
	dir := t.TempDir()
	sum, err = ingest.Run(ctx, ingest.Options{Input: extra, Client: c, Spec: collection.SpecFromConfig(via), BatchSize: 4,
		CheckpointDir: dir, ObjectRetries: 1, Retries: 1, Backoff: 50 * time.Millisecond})
	if err != nil || sum.Imported != 0 || sum.Failed != 6 || sum.FailedFile == "" {
		t.Fatalf("service down: %+v %v", sum, err)
	}
	failed, err := os.ReadFile(sum.FailedFile)
	if err != nil || strings.Count(string(failed), ingest.FailedErrorKey) != 6 || !strings.Contains(string(failed), "connect") {
		t.Fatalf("failed file:\n%s %v", failed, err)
	}
	for i := range 6 {
		ok, err := c.Data().Checker().WithClassName(via.Collection).WithID(ingest.ObjectID(fmt.Sprintf("x%02d", i))).Do(ctx)
		if err != nil || ok {
			t.Errorf("x%02d half-written while the service was down (exists=%v, %v)", i, ok, err)
		}
	}
	if got, _ := search.Count(ctx, c, via.Collection); got != n {
		t.Errorf("count %d after the failed import, want %d", got, n)
	}
	// Re-running the finished import still reports its failures rather than a clean run.
	again, err := ingest.Run(ctx, ingest.Options{Input: extra, Client: c, Spec: collection.SpecFromConfig(via), BatchSize: 4, CheckpointDir: dir})
	if err != nil || again.Imported != 0 || again.FailedTotal != 6 || again.FailedFile != sum.FailedFile {
		t.Fatalf("re-run of the finished import: %+v %v", again, err)
	}
	svc.start()
	sum, err = ingest.Run(ctx, ingest.Options{Input: sum.FailedFile, Client: c, Spec: collection.SpecFromConfig(via), BatchSize: 4, CheckpointDir: dir})
	if err != nil || sum.Imported != 6 || sum.Failed != 0 {
		t.Fatalf("retry of the failed file: %+v %v", sum, err)
	}
	if got, _ := search.Count(ctx, c, via.Collection); got != n+6 {
		t.Errorf("count %d after the retry, want %d", got, n+6)
	}
}

func writeExtraCorpus(t *testing.T, n int) string {
	t.Helper()
	path := t.TempDir() + "/extra.jsonl"
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"x%02d","title":"Extra","text":"Extra passage %d on tides and moons."}`+"\n", i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// countFiles counts the files under dir: the plugin writes one query-cache entry per passage it
// generated queries for.
