package augment

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/vectorizer"
)

func testPipeline(t *testing.T, cacheDir string) (*Pipeline, *vectorizer.Encoder, *Generator) {
	t.Helper()
	encDir, split, _ := tinyDirs(t)
	ec := config.Defaults().Encoder
	ec.ModelDir, ec.Threads, ec.QueryPrefix, ec.PassagePrefix = encDir, 1, "query: ", "passage: "
	enc, err := vectorizer.Load(context.Background(), ec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	gen := loadGen(t, testGenConfig(split, nil), GeneratorOptions{})
	var cache *QueryCache
	if cacheDir != "" {
		if cache, err = OpenCache(cacheDir); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewPipeline(enc, gen, cache, config.Augment{Alpha: 0.1, Mode: ModeSum})
	if err != nil {
		t.Fatal(err)
	}
	return p, enc, gen
}

func TestPipelineCacheAvoidsGeneration(t *testing.T) {
	dir := t.TempDir()
	p, _, gen := testPipeline(t, dir)
	ctx := context.Background()
	first, err := p.Embed(ctx, passages, Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Generated != 3 || s.CacheHits != 0 {
		t.Fatalf("first run stats %+v, want 3 generated", s)
	}
	second, err := p.Embed(ctx, passages, Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Generated != 3 || s.CacheHits != 3 {
		t.Fatalf("second run stats %+v, want 3 cache hits and no generation", s)
	}
	for i := range passages {
		if first[i].Source != "generated" || second[i].Source != "cache" {
			t.Fatalf("sources %q then %q", first[i].Source, second[i].Source)
		}
		if first[i].GenerationTime <= 0 || second[i].GenerationTime != 0 {
			t.Fatalf("generation time %v then %v: want a share of the batch when generated, none from the cache",
				first[i].GenerationTime, second[i].GenerationTime)
		}
		if !reflect.DeepEqual(first[i].Queries, second[i].Queries) || maxAbsDiff(first[i].Vector, second[i].Vector) > 0 {
			t.Fatalf("passage %d: cached result differs from generated one", i)
		}
	}
	// Corrupt one entry: it is regenerated (to the same queries, the seed being fixed), not fatal.
	path := p.cache.path(gen.CacheKey(passages[1]).Hash())
	if err := os.WriteFile(path, []byte(`{"key":`), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := p.Embed(ctx, passages, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Generated != 4 || s.CacheHits != 5 {
		t.Fatalf("after corruption stats %+v, want 4 generated and 5 hits", s)
	}
	if third[1].Source != "generated" || maxAbsDiff(third[1].Vector, first[1].Vector) > 1e-6 {
		t.Fatalf("regenerated entry: source %q, vector differs by %g", third[1].Source, maxAbsDiff(third[1].Vector, first[1].Vector))
	}
	if third[0].Passage != nil || third[0].Queries != nil {
		t.Fatal("parts returned without WithParts")
	}
}

func TestPipelinePrecomputedQueriesFuseByHand(t *testing.T) {
	p, enc, _ := testPipeline(t, "")
	ctx := context.Background()
	in := Passage{ID: "x", Title: "Helsinki", Text: "Helsinki is the capital of Finland.",
		Queries: Queries{"fi": {"mikä on Suomen pääkaupunki"}, "ja": {"フィンランドの首都は", "what is helsinki"}}}
	res, err := p.Embed(ctx, []Passage{in}, Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Generated != 0 || s.Precomputed != 1 || res[0].Source != "precomputed" {
		t.Fatalf("stats %+v source %q: precomputed queries must not be generated", s, res[0].Source)
	}
	pv, _, err := enc.EncodePassages(ctx, []string{"Helsinki Helsinki is the capital of Finland."})
	if err != nil {
		t.Fatal(err)
	}
	// Generator language order (fi before ja), then query order.
	qv, _, err := enc.EncodeQueries(ctx, []string{"mikä on Suomen pääkaupunki", "フィンランドの首都は", "what is helsinki"})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, len(pv[0]))
	for j := range want {
		want[j] = float32(0.9*float64(pv[0][j]) + 0.1*(float64(qv[0][j])+float64(qv[1][j])+float64(qv[2][j])))
	}
	if d := maxAbsDiff(res[0].Vector, want); d > 1e-6 {
		t.Fatalf("fused vector differs from 0.9·p + 0.1·Σq by %g", d)
	}
	if maxAbsDiff(res[0].Passage, pv[0]) > 0 || len(res[0].QueryVectors["ja"]) != 2 {
		t.Fatal("parts do not match")
	}
}

func TestPipelineErrors(t *testing.T) {
	p, enc, _ := testPipeline(t, "")
	if _, err := p.Embed(context.Background(), []Passage{{ID: "e"}}, Options{}); err == nil || !strings.Contains(err.Error(), `id "e"): text is empty`) {
		t.Fatalf("empty text: %v", err)
	}
	noGen, err := NewPipeline(enc, nil, nil, config.Augment{Alpha: 0.01, Mode: ModeSum})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noGen.Embed(context.Background(), passages[:1], Options{}); err == nil || !strings.Contains(err.Error(), "no generator configured") {
		t.Fatalf("no generator: %v", err)
	}
	if _, err := NewPipeline(enc, nil, nil, config.Augment{Alpha: 2}); err == nil {
		t.Fatal("alpha 2 accepted")
	}
}

// TestPipelinePlainOnly: the plain path equals the fused path's Passage part and touches neither the
// generator nor the cache, also for a passage whose queries are cached or given.
func TestPipelinePlainOnly(t *testing.T) {
	dir := t.TempDir()
	p, _, _ := testPipeline(t, dir)
	ctx := context.Background()
	given := Passage{ID: "given", Title: "Helsinki", Text: "Helsinki is the capital of Finland.", Queries: Queries{"fi": {"mikä on Suomen pääkaupunki"}}}
	in := append(append([]Passage(nil), passages...), given)
	for _, opts := range []Options{{PlainOnly: true}, {PlainOnly: true, WithParts: true}} {
		plain, err := p.Embed(ctx, in, opts)
		if err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s != (Stats{}) {
			t.Fatalf("%+v: stats %+v, want nothing generated, looked up or given", opts, s)
		}
		if n, _ := os.ReadDir(dir); len(n) != 0 {
			t.Fatalf("%+v: the plain path wrote %d cache entries", opts, len(n))
		}
		for i, r := range plain {
			if r.Source != "none" || r.Queries != nil || r.QueryVectors != nil || len(r.Vector) == 0 {
				t.Fatalf("%+v: passage %d: source %q, queries %v", opts, i, r.Source, r.Queries)
			}
			if opts.WithParts != (r.Passage != nil) || (r.Passage != nil && maxAbsDiff(r.Passage, r.Vector) > 0) {
				t.Fatalf("%+v: passage %d: Passage part %v", opts, i, r.Passage != nil)
			}
		}
	}
	fused, err := p.Embed(ctx, in, Options{WithParts: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := p.Embed(ctx, in, Options{PlainOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if maxAbsDiff(plain[i].Vector, fused[i].Passage) > 0 {
			t.Errorf("passage %d: plain vector differs from the fused path's passage part", i)
		}
		if maxAbsDiff(plain[i].Vector, fused[i].Vector) == 0 {
			t.Errorf("passage %d: plain equals fused: fusion did nothing", i)
		}
	}
	if s := p.Stats(); s.Generated != int64(len(passages)) || s.CacheHits != 0 {
		t.Errorf("stats %+v: the plain calls after the fused one looked up the cache", s)
	}
}
