package integration

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/search"
)

func TestCollectionSchemaAndCompatibility(t *testing.T) {
	srv := plainWeaviate(t)
	ctx := ctxT(t, time.Minute)
	w := weaviateConfig(srv, "SchemaCheck")
	w.Quantization = "sq"
	c := connect(t, w, false)
	// Every quantizer the configuration accepts is one Weaviate accepts on both named vectors.
	for _, q := range []string{"pq", "rq", "bq"} {
		wq := weaviateConfig(srv, "Quantized"+strings.ToUpper(q))
		wq.Quantization = q
		if _, err := collection.Ensure(ctx, c, collection.SpecFromConfig(wq)); err != nil {
			t.Errorf("quantization %s: %v", q, err)
			continue
		}
		got, err := c.Schema().ClassGetter().WithClassName(wq.Collection).Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		idx := got.VectorConfig[collection.VectorXQG].VectorIndexConfig.(map[string]any)
		if qc, _ := idx[q].(map[string]any); qc["enabled"] != true {
			t.Errorf("quantization %s not enabled: %v", q, idx[q])
		}
		if _, err := collection.Ensure(ctx, c, collection.SpecFromConfig(wq)); err != nil {
			t.Errorf("quantization %s: the created collection is not compatible with its own configuration: %v", q, err)
		}
	}
	spec := collection.SpecFromConfig(w)

	created, err := collection.Ensure(ctx, c, spec)
	if err != nil || !created {
		t.Fatalf("Ensure: created=%v err=%v", created, err)
	}
	got, err := c.Schema().ClassGetter().WithClassName(spec.Name).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{collection.VectorXQG, collection.VectorPassage} {
		vc, ok := got.VectorConfig[name]
		if !ok {
			t.Fatalf("named vector %s missing: %v", name, got.VectorConfig)
		}
		idx := vc.VectorIndexConfig.(map[string]any)
		if vc.VectorIndexType != "hnsw" || idx["distance"] != "cosine" || idx["ef"] != 64.0 ||
			idx["efConstruction"] != 96.0 || idx["maxConnections"] != 24.0 {
			t.Errorf("%s index: %s %v", name, vc.VectorIndexType, idx)
		}
		if sq, _ := idx["sq"].(map[string]any); sq["enabled"] != true {
			t.Errorf("%s: sq quantization not enabled: %v", name, idx["sq"])
		}
	}
	if again, err := collection.Ensure(ctx, c, spec); err != nil || again {
		t.Fatalf("second Ensure: created=%v err=%v", again, err)
	}

	changed := spec
	changed.MaxConn, changed.Distance = 16, "dot"
	_, err = collection.Ensure(ctx, c, changed)
	var ie *collection.IncompatibleError
	if !errors.As(err, &ie) {
		t.Fatalf("want IncompatibleError, got %v", err)
	}
	want := []string{"named vector passage: distance cosine, want dot", "named vector passage: hnsw maxConnections 24, want 16",
		"named vector xqg: distance cosine, want dot", "named vector xqg: hnsw maxConnections 24, want 16"}
	if strings.Join(ie.Differences, "|") != strings.Join(want, "|") {
		t.Errorf("differences:\n%s", strings.Join(ie.Differences, "\n"))
	}
}

// Import over gRPC and over REST, with both vectors supplied; the stored vectors are the supplied ones;
// re-running never duplicates; a finished checkpoint makes a re-run skip everything.
func TestIngestBringYourOwnGRPCAndREST(t *testing.T) {
	srv := plainWeaviate(t)
	ctx := ctxT(t, 2*time.Minute)
	const n = 40
	input := writeCorpus(t, n)
	emb := &hashEmbedder{dim: 32}
	for _, tc := range []struct {
		coll string
		grpc bool
	}{{"ByoGrpc", true}, {"ByoRest", false}} {
		t.Run(tc.coll, func(t *testing.T) {
			w := weaviateConfig(srv, tc.coll)
			c := connect(t, w, tc.grpc)
			opts := ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(w), Consistency: w.Consistency,
				Embedder: emb, BatchSize: 16, CheckpointDir: t.TempDir()}
			sum, err := ingest.Run(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Imported != n || sum.Failed != 0 || !sum.Created || sum.FailedFile != "" {
				t.Fatalf("summary %+v", sum)
			}
			assertEachOnce(t, ctx, c, tc.coll, n)

			// Stored vectors are exactly what the client supplied.
			obj, err := c.Data().ObjectsGetter().WithClassName(tc.coll).WithID(ingest.ObjectID("p007")).WithVector().Do(ctx)
			if err != nil || len(obj) != 1 {
				t.Fatalf("get p007: %v", err)
			}
			p := ingest.Passage{Title: "Topic 7", Text: "Passage 7 is about chess opening king and number 7."}
			want, _ := emb.Embed(ctx, []ingest.Passage{p})
			assertClose(t, "xqg", obj[0].Vectors[collection.VectorXQG], want[0].XQG, 1e-6)
			assertClose(t, "passage", obj[0].Vectors[collection.VectorPassage], want[0].Passage, 1e-6)
			props := obj[0].Properties.(map[string]any)
			if props["source"] != "synthetic" || props["n"] != 7.0 || props["title"] != "Topic 7" {
				t.Errorf("extra properties not kept: %v", props)
			}

			// Done checkpoint: nothing redone.
			again, err := ingest.Run(ctx, opts)
			if err != nil || again.Imported != 0 || again.Skipped != n {
				t.Fatalf("re-run after done: %+v %v", again, err)
			}
			// Restart: everything re-imported onto the same ids.
			opts.Restart = true
			again, err = ingest.Run(ctx, opts)
			if err != nil || again.Imported != n || again.Created {
				t.Fatalf("restart: %+v %v", again, err)
			}
			assertEachOnce(t, ctx, c, tc.coll, n)
		})
	}
}

func assertClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%s: %d dims, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s[%d] = %v, want %v (±%g)", what, i, got[i], want[i], tol)
		}
	}
}

// Single-object create, update (new vectors replace the old) and delete through the REST API.
func TestCreateUpdateDeleteBringYourOwn(t *testing.T) {
	srv := plainWeaviate(t)
	ctx := ctxT(t, time.Minute)
	w := weaviateConfig(srv, "ByoCrud")
	c := connect(t, w, false)
	if _, err := collection.Ensure(ctx, c, collection.SpecFromConfig(w)); err != nil {
		t.Fatal(err)
	}
	emb := &hashEmbedder{dim: 16}
	p := ingest.Passage{ID: "one", Title: "Bees", Text: "Honey bees visit flowers."}
	v, _ := emb.Embed(ctx, []ingest.Passage{p})
	id := ingest.ObjectID(p.ID)
	_, err := c.Data().Creator().WithClassName(w.Collection).WithID(id).
		WithProperties(map[string]any{"passage_id": p.ID, "title": p.Title, "text": p.Text}).
		WithVectors(models.Vectors{"xqg": v[0].XQG, "passage": v[0].Passage}).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Text = "Glaciers store ice for centuries."
	v2, _ := emb.Embed(ctx, []ingest.Passage{p})
	err = c.Data().Updater().WithClassName(w.Collection).WithID(id).
		WithProperties(map[string]any{"passage_id": p.ID, "title": p.Title, "text": p.Text}).
		WithVectors(models.Vectors{"xqg": v2[0].XQG, "passage": v2[0].Passage}).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Data().ObjectsGetter().WithClassName(w.Collection).WithID(id).WithVector().Do(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("get: %v", err)
	}
	assertClose(t, "updated passage", got[0].Vectors["passage"], v2[0].Passage, 1e-6)
	if got[0].Properties.(map[string]any)["text"] != p.Text {
		t.Errorf("text not updated: %v", got[0].Properties)
	}
	if err := c.Data().Deleter().WithClassName(w.Collection).WithID(id).Do(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.Data().Checker().WithClassName(w.Collection).WithID(id).Do(ctx); err != nil || ok {
		t.Errorf("after delete: exists=%v err=%v", ok, err)
	}
	_ = strfmt.UUID(id)
}

// nearVector on each named vector, hybrid, and a where filter with a vector search.
func TestQueriesBringYourOwn(t *testing.T) {
	srv := plainWeaviate(t)
	ctx := ctxT(t, time.Minute)
	w := weaviateConfig(srv, "ByoQuery")
	c := connect(t, w, true)
	emb := &hashEmbedder{dim: 32}
	input := writeCorpus(t, 24)
	if _, err := ingest.Run(ctx, ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(w),
		Embedder: emb, CheckpointDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	q := emb.vector("violin orchestra music")
	for _, target := range []string{collection.VectorXQG, collection.VectorPassage} {
		hits, err := search.Query(ctx, c, search.Request{Collection: w.Collection, Vector: q, Target: target, K: 3, WithVectors: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 3 || !strings.Contains(hits[0].Text, "violin") || hits[0].Distance == nil {
			t.Fatalf("%s nearVector: %+v", target, hits)
		}
		if *hits[0].Distance > *hits[2].Distance {
			t.Errorf("%s: not ranked by distance: %v > %v", target, *hits[0].Distance, *hits[2].Distance)
		}
		if len(hits[0].Vectors[collection.VectorXQG]) != 32 {
			t.Errorf("vectors not returned: %v", hits[0].Vectors)
		}
	}
	hits, err := search.Query(ctx, c, search.Request{Collection: w.Collection, Mode: search.Hybrid, Text: "glacier", Vector: emb.vector("glacier ice climate"), K: 3})
	if err != nil || len(hits) == 0 || !strings.Contains(hits[0].Text, "glacier") || hits[0].Score == nil {
		t.Fatalf("hybrid: %+v %v", hits, err)
	}
	hits, err = search.Query(ctx, c, search.Request{Collection: w.Collection, Vector: q, K: 5,
		Where: map[string]string{collection.PropPassageID: "p010"}})
	if err != nil || len(hits) != 1 || hits[0].PassageID != "p010" {
		t.Fatalf("where+nearVector: %+v %v", hits, err)
	}
	infos, err := search.Collections(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range infos {
		if in.Name == w.Collection {
			found = in.Count == 24 && len(in.Vectors) == 2 && in.Vectors[0].Name == "passage" && in.Vectors[1].Vectorizer == "none"
		}
	}
	if !found {
		t.Errorf("collections: %+v", infos)
	}
}

// Weaviate restarted in the middle of an ingest: the batches that hit the outage are retried and
// every passage ends up present exactly once.
func TestWeaviateRestartMidIngest(t *testing.T) {
	srv := ownWeaviate(t)
	ctx := ctxT(t, 3*time.Minute)
	w := weaviateConfig(srv, "RestartMid")
	c := connect(t, w, true)
	const n = 48
	var wg sync.WaitGroup
	emb := &hashEmbedder{dim: 16, before: func(call int) {
		if call == 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := srv.Restart(context.Background()); err != nil {
					t.Errorf("restart: %v", err)
				}
			}()
			time.Sleep(300 * time.Millisecond) // let the stop begin before this batch is imported
		}
	}}
	sum, err := ingest.Run(ctx, ingest.Options{Input: writeCorpus(t, n), Client: c, Spec: collection.SpecFromConfig(w),
		Embedder: emb, BatchSize: 8, CheckpointDir: t.TempDir(), Retries: 10, Backoff: 200 * time.Millisecond, MaxBackoff: 3 * time.Second})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != n || sum.Failed != 0 {
		b, _ := os.ReadFile(sum.FailedFile)
		t.Fatalf("summary %+v\nfailed:\n%s", sum, b)
	}
	assertEachOnce(t, ctx, c, w.Collection, n)
}

// An interrupted ingest resumes from its checkpoint; two shard workers in parallel split the input.
func TestInterruptResumeAndShards(t *testing.T) {
	srv := plainWeaviate(t)
	ctx := ctxT(t, 2*time.Minute)
	const n = 40
	input := writeCorpus(t, n)

	w := weaviateConfig(srv, "ResumeCheck")
	c := connect(t, w, true)
	dir := t.TempDir()
	runCtx, cancel := context.WithCancel(ctx)
	cpPath := ingest.CheckpointPath(dir, input, w.Collection, ingest.All)
	emb := &hashEmbedder{dim: 16, before: func(call int) {
		if call != 4 {
			return
		}
		// Interrupt once two batches are committed: deterministic whatever the pipeline's timing.
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cp, _ := ingest.LoadCheckpoint(cpPath); cp != nil && cp.Imported >= 16 {
				break
			}
		}
		cancel()
	}}
	opts := ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(w), Embedder: emb, BatchSize: 8, CheckpointDir: dir}
	first, err := ingest.Run(runCtx, opts)
	if !errors.Is(err, context.Canceled) || first.Imported == 0 || first.Imported >= n {
		t.Fatalf("interrupted run: %+v %v", first, err)
	}
	opts.Embedder = &hashEmbedder{dim: 16}
	second, err := ingest.Run(ctx, opts)
	if err != nil || !second.Resumed || second.Skipped != first.Imported || first.Imported+second.Imported != n {
		t.Fatalf("resumed run: %+v %v (first imported %d)", second, err, first.Imported)
	}
	assertEachOnce(t, ctx, c, w.Collection, n)

	w2 := weaviateConfig(srv, "ShardCheck")
	w2.Sharding.DesiredCount = 2
	c2 := connect(t, w2, true)
	sdir := t.TempDir()
	var wg sync.WaitGroup
	sums := make([]ingest.Summary, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = ingest.Run(ctx, ingest.Options{Input: input, Client: c2, Spec: collection.SpecFromConfig(w2),
				Embedder: &hashEmbedder{dim: 16}, BatchSize: 8, Shard: ingest.Shard{I: i, N: 2}, CheckpointDir: sdir})
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if sums[i].Imported+sums[i].OtherShard != n || sums[i].Imported == 0 {
			t.Errorf("shard %d: %+v", i, sums[i])
		}
	}
	if sums[0].Imported+sums[1].Imported != n {
		t.Errorf("shards imported %d+%d, want %d", sums[0].Imported, sums[1].Imported, n)
	}
	assertEachOnce(t, ctx, c2, w2.Collection, n)
	cps, err := ingest.ListCheckpoints(sdir)
	if err != nil || len(cps) != 2 || !cps[0].Done || !cps[1].Done || cps[0].Shard != "0/2" {
		t.Fatalf("checkpoints: %+v %v", cps, err)
	}
}
