package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/benchenv"
	"github.com/xqg/xqg/internal/tinymodels"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/plugintest"
)

// BenchmarkIngest measures `xqg ingest` throughput on the BERT-base shape encoder, plain (no xQG)
// and with xQG (mT5-small shape generator, 5 queries × 7 languages, 16 new tokens), on the fast path
// (the plugin computes both vectors, gRPC import) and --via-weaviate (Weaviate calls xqg serve for
// each object and named vector), and where the time goes. Weights are random: only the cost is real.
//
//	go test ./integration -run '^$' -bench BenchmarkIngest -benchtime 1x -timeout 60m
//
// XQG_BENCH_PASSAGES sets the corpus size (default 8); XQG_BENCH_SHAPES=tiny uses the tiny models.
func BenchmarkIngest(b *testing.B) {
	skipShort(b)
	n := 8
	if s := os.Getenv("XQG_BENCH_PASSAGES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("XQG_BENCH_PASSAGES=%q: want a positive integer", s)
		}
	}
	base := plugintest.Tiny(b, true)
	base.Encoder.Threads, base.Generator.Threads = 0, 0
	base.Generator.QueriesPerLanguage, base.Generator.MaxNewTokens = 5, 16
	if os.Getenv("XQG_BENCH_SHAPES") != "tiny" {
		base.Encoder.ModelDir = benchenv.ModelDir(b, tinymodels.BERTBase)
		base.Generator.ModelDir = benchenv.ModelDir(b, tinymodels.MT5Small)
	}
	input := writeCorpus(b, n)
	ctx := context.Background()

	for b.Loop() {
		for _, xqg := range []bool{false, true} {
			cfg := base
			name := "plain"
			if xqg {
				name = "xqg"
			} else {
				cfg.Generator.ModelDir = ""
			}
			benchFastPath(b, ctx, cfg, input, name, n)
			benchViaWeaviate(b, ctx, cfg, input, name, n, xqg)
		}
	}
}

func benchFastPath(b *testing.B, ctx context.Context, cfg plugin.BackendConfig, input, name string, n int) {
	cfg.Cache.Dir = b.TempDir() // a cold query cache: every passage generates
	h := plugintest.Start(b, cfg, nil)
	defer h.Close()
	// One gRPC round trip, to estimate the plugin hop's share of each embedding call.
	t0 := time.Now()
	const probes = 20
	for range probes {
		if err := h.Health(ctx); err != nil {
			b.Fatal(err)
		}
	}
	hop := time.Since(t0) / probes
	srv := ownWeaviate(b)
	w := weaviateConfig(srv, "BenchFast"+strings.ToUpper(name[:1])+name[1:])
	c := connect(b, w, true)
	const batch = 8
	sum, err := ingest.Run(ctx, ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(w),
		Embedder: ingest.PluginEmbedder{V: h}, BatchSize: batch, CheckpointDir: b.TempDir()})
	if err != nil || sum.Imported != int64(n) {
		b.Fatalf("fast path %s: %+v %v", name, sum, err)
	}
	calls := (n + batch - 1) / batch
	rpc := time.Duration(calls) * hop
	el := sum.Elapsed.Seconds()
	b.ReportMetric(float64(n)/el, "passages/s_fast_"+name)
	b.ReportMetric(100*sum.GenerationTime.Seconds()/el, "gen_%_fast_"+name)
	b.ReportMetric(100*(sum.EmbedTime-sum.GenerationTime-rpc).Seconds()/el, "encode_%_fast_"+name)
	b.ReportMetric(100*rpc.Seconds()/el, "rpc_%_fast_"+name)
	b.ReportMetric(100*sum.ImportTime.Seconds()/el, "weaviate_%_fast_"+name)
}

func benchViaWeaviate(b *testing.B, ctx context.Context, cfg plugin.BackendConfig, input, name string, n int, xqg bool) {
	cfg.Cache.Dir = b.TempDir()
	svc := startServiceWith(b, cfg, xqg)
	defer svc.stop()
	srv := ownWeaviate(b, transformersEnv(svc.URL())...)
	w := weaviateConfig(srv, "BenchVia"+strings.ToUpper(name[:1])+name[1:])
	w.ServiceURL = svc.URL()
	w.Timeout = 10 * time.Minute // a batch request lasts as long as Weaviate's vectorization of it
	c := connect(b, w, true)
	before := svc.metrics()
	sum, err := ingest.Run(ctx, ingest.Options{Input: input, Client: c, Spec: collection.SpecFromConfig(w), BatchSize: 8, CheckpointDir: b.TempDir()})
	if err != nil || sum.Imported != int64(n) {
		b.Fatalf("via weaviate %s: %+v %v", name, sum, err)
	}
	after := svc.metrics()
	delta := func(prefix string) float64 {
		var d float64
		for k, v := range after {
			if strings.HasPrefix(k, prefix) {
				d += v - before[k]
			}
		}
		return d
	}
	el := sum.Elapsed.Seconds()
	gen := delta("xqg_module_generation_seconds_per_passage_sum")
	served := delta("xqg_module_request_duration_seconds_sum")
	b.ReportMetric(float64(n)/el, "passages/s_via_"+name)
	b.ReportMetric(100*gen/el, "gen_%_via_"+name)
	// Requests overlap (Weaviate vectorizes a batch's objects concurrently and the service batches
	// them), so the service's busy time is the sum of request durations and may exceed 100%.
	b.ReportMetric(100*served/el, "service_busy_%_via_"+name)
	// 2 per passage (fused + plain) when no batch request timed out and was sent again.
	b.ReportMetric(delta(`xqg_module_backend_items_total`), "service_items_via_"+name)
	if gen > 0 && !xqg {
		b.Errorf("plain run generated (%v s)", gen)
	}
}
