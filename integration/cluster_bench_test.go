package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/search"
)

// procStatusKB reads one "Name:   123 kB" field of /proc/PID/status.
func procStatusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == field {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// ingestWorkers ingests input into a fresh collection with `workers` shard workers in parallel,
// worker i through node i and its own plugin process, and returns the wall time of the whole
// ingest. Each run gets an empty query cache, so no run reuses another's generated queries.
func ingestWorkers(b *testing.B, ctx context.Context, cl *launcher.Cluster, cfg plugin.BackendConfig, hashDim int, input, coll string, workers, n int) (time.Duration, []ingest.Summary) {
	b.Helper()
	cfg.Cache.Dir = b.TempDir()
	embedders := make([]ingest.Embedder, workers)
	for i := range embedders {
		if hashDim > 0 {
			embedders[i] = &hashEmbedder{dim: hashDim}
			continue
		}
		h := plugintest.Start(b, cfg, nil)
		defer h.Close()
		embedders[i] = ingest.PluginEmbedder{V: h}
	}
	clients := make([]*weaviate.Client, 3)
	for i := range clients {
		clients[i] = connectTB(b, clusterConfig(cl, i, coll, ""))
	}
	spec := collection.SpecFromConfig(clusterConfig(cl, 0, coll, ""))
	createEverywhere(b, ctx, clients, spec)
	dir := b.TempDir()
	sums := make([]ingest.Summary, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range workers {
		wg.Go(func() {
			sums[i], errs[i] = ingest.Run(ctx, ingest.Options{Input: input, Client: clients[i], Spec: spec,
				Consistency: "QUORUM", Embedder: embedders[i], BatchSize: 64,
				Shard: ingest.Shard{I: i, N: workers}, CheckpointDir: dir})
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	var imported int64
	for i := range workers {
		if errs[i] != nil {
			b.Fatalf("%d workers, worker %d: %v", workers, i, errs[i])
		}
		imported += sums[i].Imported
	}
	if got, err := search.Count(ctx, clients[0], coll); err != nil || imported != int64(n) || got != int64(n) {
		b.Fatalf("%d workers imported %d, collection counts %d (%v), want %d", workers, imported, got, err, n)
	}
	if err := clients[0].Schema().ClassDeleter().WithClassName(coll).Do(ctx); err != nil {
		b.Fatalf("delete %s: %v", coll, err)
	}
	return elapsed, sums
}

// BenchmarkClusterIngest is the fast-path ingest (the plugin on the tiny models computes both
// vectors; the client imports them over gRPC at QUORUM) into a local three-node cluster with 3
// shards and replication factor 2, with one shard worker and then two in parallel (each its own
// plugin process and its own node), in the same run so the ratio compares like with like. It
// reports passages/s for both, their ratio, and each node's resident memory (VmRSS now, VmHWM peak)
// from /proc. XQG_BENCH_PASSAGES sets the corpus size (2000); XQG_BENCH_GENERATOR=1 adds the tiny
// generator (5 queries × 7 languages per passage would be the real load; the tiny one makes 2 × 7).
// XQG_BENCH_HASH_DIM=768 replaces the plugin by a hashed bag of words of that dimension, which
// costs next to nothing, so the rate is Weaviate's import rate for vectors of the real size.
//
//	make bench-cluster
func BenchmarkClusterIngest(b *testing.B) {
	n := 2000
	if s := os.Getenv("XQG_BENCH_PASSAGES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("XQG_BENCH_PASSAGES=%q: want a positive integer", s)
		}
	}
	hashDim := 0
	if s := os.Getenv("XQG_BENCH_HASH_DIM"); s != "" {
		var err error
		if hashDim, err = strconv.Atoi(s); err != nil || hashDim < 1 {
			b.Fatalf("XQG_BENCH_HASH_DIM=%q: want a positive integer", s)
		}
	}
	cl := startCluster(b)
	cfg := plugintest.Tiny(b, os.Getenv("XQG_BENCH_GENERATOR") == "1")
	input := writeCorpusTB(b, n)
	ctx := context.Background()

	var one, two time.Duration
	var embed, imp time.Duration
	round := 0
	for b.Loop() {
		round++
		// Alternate which goes first, so neither always meets a warmer cluster.
		for k := range 2 {
			if (k+round)%2 == 1 {
				d, sums := ingestWorkers(b, ctx, cl, cfg, hashDim, input, fmt.Sprintf("BenchOne%d", round), 1, n)
				one += d
				embed, imp = embed+sums[0].EmbedTime, imp+sums[0].ImportTime
			} else {
				d, _ := ingestWorkers(b, ctx, cl, cfg, hashDim, input, fmt.Sprintf("BenchTwo%d", round), 2, n)
				two += d
			}
		}
	}
	rate1 := float64(n*round) / one.Seconds()
	rate2 := float64(n*round) / two.Seconds()
	b.ReportMetric(rate1, "passages/s_1worker")
	b.ReportMetric(rate2, "passages/s_2workers")
	b.ReportMetric(rate2/rate1, "speedup_2v1")
	b.ReportMetric(100*embed.Seconds()/(embed+imp).Seconds(), "embed_%_1worker")
	for i, s := range cl.Nodes() {
		rss, err1 := procStatusKB(s.Pid(), "VmRSS")
		hwm, err2 := procStatusKB(s.Pid(), "VmHWM")
		if err1 != nil || err2 != nil {
			b.Fatalf("memory of %s: %v %v", s.Hostname(), err1, err2)
		}
		b.ReportMetric(float64(rss)/1024, fmt.Sprintf("node%d_rss_MB", i+1))
		b.ReportMetric(float64(hwm)/1024, fmt.Sprintf("node%d_peak_rss_MB", i+1))
	}
}

// writeCorpusTB is writeCorpus for benchmarks: n passages of the same shape, ids c00000….
func writeCorpusTB(tb testing.TB, n int) string {
	tb.Helper()
	path := tb.TempDir() + "/bench.jsonl"
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, `{"id":"c%05d","title":"Topic %d","text":"Passage %d is about %s and number %d."}`+"\n",
			i, i%len(topics), i, topics[i%len(topics)], i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
