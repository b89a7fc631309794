package main

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
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/tinymodels"
	"github.com/xqg/xqg/search"
)

func newBenchCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure xqg on this machine (research question 1: the latency–effectiveness trade-off)",
	}
	cmd.AddCommand(newBenchTradeoffCmd(g))
	return cmd
}

// citedR2kt are the only effectiveness figures the xQG paper (Zhuang, Shou, Zuccon, SIGIR 2023,
// arXiv 2305.03950) states for an encoder of these shapes: mDPR on mBERT (the M shape, BERT-base),
// XOR-TyDi dev R@2kt macro average, without and with xQG augmentation.
var citedR2kt = map[string]map[bool]float64{"bert-base": {false: 44.2, true: 46.2}}

const citation = "Zhuang, Shou, Zuccon: Augmenting Passage Representations with Query Generation for Enhanced Cross-Lingual Dense Retrieval, SIGIR 2023, arXiv 2305.03950 (mBERT mDPR, XOR-TyDi dev R@2kt)"

// tradeoffRow is one system: an encoder shape with or without xQG.
type tradeoffRow struct {
	System string `json:"system"`
	Shape  string `json:"shape"`
	XQG    bool   `json:"xqg"`
	// Query encoding through xqg serve (POST /vectors, task_type query), per concurrency.
	Query map[int]latency `json:"query_encoding"`
	// NearText through Weaviate (which calls xqg serve's query path), per named vector.
	NearText map[string]latency `json:"near_text,omitempty"`
	// IndexMSPerPassage is the passage path (generation + fusion with xQG) per passage, sequential.
	IndexMSPerPassage float64 `json:"index_ms_per_passage"`
	Effectiveness     float64 `json:"effectiveness,omitempty"`
	EffSource         string  `json:"effectiveness_source"` // "cited", "measured" or ""
}

type latency struct {
	N          int     `json:"n"`
	P50MS      float64 `json:"p50_ms"`
	P95MS      float64 `json:"p95_ms"`
	Throughput float64 `json:"per_second"`
}

func summarize(ds []time.Duration, wall time.Duration) latency {
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		i := int(p*float64(len(s))+0.5) - 1
		return float64(s[min(max(i, 0), len(s)-1)]) / 1e6
	}
	l := latency{N: len(s), P50MS: pct(0.5), P95MS: pct(0.95)}
	if wall > 0 {
		l.Throughput = float64(len(s)) / wall.Seconds()
	}
	return l
}

// benchModel writes a real-size model with generated weights once into the cache dir (hundreds of
// MB to GB), where the go test benchmarks keep theirs too.
func benchModel(shape tinymodels.Shape, log io.Writer) (string, error) {
	if shape.Name == tinymodels.TinyEncoder.Name {
		enc, gen, err := tinymodels.Ensure(cachedir.Dir())
		if shape.IsSeq2Seq() {
			return gen, err
		}
		return enc, err
	}
	dir := cachedir.Sub("bench-models", tinymodels.Version, shape.Name)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "writing the %s model (generated weights) into %s ...\n", shape.Name, dir)
	var err error
	if shape.IsSeq2Seq() {
		err = tinymodels.WriteSeq2Seq(tmp, shape)
	} else {
		err = tinymodels.WriteEncoder(tmp, shape)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", shape.Name, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "complete")); serr != nil {
			return "", err
		}
	}
	return dir, nil
}

type tradeoffOpts struct {
	concurrency                   []int
	shapeNames                    []string
	generator, out, weaviateBin   string
	requests, passages, genTokens int
	genQueries                    int
	noWeaviate                    bool
	loadStart                     string
}

// loadAverage is the 1-minute load average (Linux), to judge how busy the machine was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func newBenchTradeoffCmd(g *globalFlags) *cobra.Command {
	var o tradeoffOpts
	var shapes, conc string
	cmd := &cobra.Command{
		Use:   "tradeoff --out DIR",
		Short: "Query latency and throughput per encoder size, with and without xQG, joined with effectiveness",
		Long: `Research question (1): does augmenting passages with generated queries buy effectiveness more
cheaply than a bigger encoder? For each encoder shape (S minilm-l12, M bert-base, L xlmr-large;
real sizes with generated weights, written into the cache dir on first use), with and without
xQG (the mt5-small generator shape), it starts the real xqg serve (plugin process) and measures:
query encoding (POST /vectors, task_type query) latency p50/p95 and throughput at each
--concurrency; Weaviate nearText latency on both named vectors (Weaviate calls xqg serve's query
path); and the passage path per passage, which with xQG is the index-time cost of generation and
fusion. Queries never run the generator, so with and without xQG should match at query time.

Effectiveness: generated weights retrieve nothing meaningful, so the table joins the paper's
published figures, labelled "cited" (only mBERT, the M shape: XOR-TyDi dev R@2kt 44.2 without and
46.2 with xQG). Writes tradeoff.md, tradeoff.json and tradeoff.png/svg (latency vs effectiveness).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.out == "" {
				return usageError(errors.New("--out DIR is required"))
			}
			o.shapeNames = nil
			for _, s := range strings.Split(shapes, ",") {
				s = strings.TrimSpace(s)
				if _, ok := benchShape(s, false); !ok {
					return usageError(fmt.Errorf("--shapes: %q is not an encoder shape (want minilm-l12, bert-base, xlmr-large or tiny)", s))
				}
				o.shapeNames = append(o.shapeNames, s)
			}
			var err error
			if o.concurrency, err = parseInts("concurrency", conc); err != nil {
				return usageError(err)
			}
			if o.requests < 1 || o.passages < 1 || o.genQueries < 1 || o.genTokens < 1 {
				return usageError(errors.New("--requests, --passages, --gen-queries and --gen-tokens must be positive"))
			}
			if _, ok := benchShape(o.generator, true); o.generator != "none" && !ok {
				return usageError(fmt.Errorf("--generator %q: want mt5-small, mt5-base, tiny or none", o.generator))
			}
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTradeoff(ctx, c.OutOrStdout(), c.ErrOrStderr(), l.Config, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.out, "out", "", "folder for tradeoff.md, tradeoff.json and the plot")
	fl.StringVar(&shapes, "shapes", "minilm-l12,bert-base,xlmr-large", "encoder shapes (S, M, L)")
	fl.StringVar(&o.generator, "generator", "mt5-small", "generator shape for xQG, or none to skip the xQG systems")
	fl.StringVar(&conc, "concurrency", "1,8", "client concurrencies of the query-encoding measurement")
	fl.IntVar(&o.requests, "requests", 64, "query requests per concurrency (and nearText queries per named vector)")
	fl.IntVar(&o.passages, "passages", 8, "passages indexed per system (the passage-path cost and the nearText collection)")
	fl.IntVar(&o.genQueries, "gen-queries", 1, "generated queries per language per passage (the paper: 5)")
	fl.IntVar(&o.genTokens, "gen-tokens", 16, "maximum generated tokens per query")
	fl.BoolVar(&o.noWeaviate, "no-weaviate", false, "skip the Weaviate nearText measurement")
	fl.StringVar(&o.weaviateBin, "weaviate-bin", "", "weaviate-server binary (default: the setup cache)")
	return cmd
}

// benchShape finds an encoder (or seq2seq) shape by name; "tiny" is the tiny test model.
func benchShape(name string, seq2seq bool) (tinymodels.Shape, bool) {
	for _, sh := range tinymodels.Shapes[name] {
		if sh.IsSeq2Seq() == seq2seq {
			return sh, true
		}
	}
	return tinymodels.Shape{}, false
}

// benchQuery is a search query, different per request so no cache can answer it.
func benchQuery(i int) string {
	return fmt.Sprintf("which city is the capital of finland and when was it founded %d", i)
}

func benchPassage(i int) ingest.Passage {
	return ingest.Passage{ID: fmt.Sprintf("b%04d", i), Title: fmt.Sprintf("Article %d", i),
		Text: fmt.Sprintf("Helsinki is the capital and most populous city of Finland. It was founded in 1550 by King Gustav I of Sweden, passage %d.", i)}
}

func runTradeoff(ctx context.Context, stdout, stderr io.Writer, base config.Config, o tradeoffOpts) error {
	o.loadStart = loadAverage()
	var genDir string
	if o.generator != "none" {
		var err error
		sh, _ := benchShape(o.generator, true)
		if genDir, err = benchModel(sh, stderr); err != nil {
			return err
		}
	}
	var rows []tradeoffRow
	for _, name := range o.shapeNames {
		sh, _ := benchShape(name, false)
		encDir, err := benchModel(sh, stderr)
		if err != nil {
			return err
		}
		for _, withXQG := range []bool{false, true} {
			if withXQG && genDir == "" {
				continue
			}
			cfg := base
			cfg.Encoder.ModelDir = encDir
			cfg.Encoder.Threads = 0
			cfg.Generator.ModelDir = ""
			if withXQG {
				cfg.Generator.ModelDir = genDir
				cfg.Generator.QueriesPerLanguage = o.genQueries
				cfg.Generator.MaxNewTokens = o.genTokens
			}
			// A fresh query cache, so the passage path really generates.
			cacheDir, err := os.MkdirTemp("", "xqg-bench-cache-")
			if err != nil {
				return err
			}
			cfg.Cache.Dir = cacheDir
			row, err := measureSystem(ctx, stderr, cfg, name, withXQG, o)
			os.RemoveAll(cacheDir)
			if err != nil {
				return fmt.Errorf("%s: %w", systemName(name, withXQG), err)
			}
			rows = append(rows, row)
		}
	}
	return writeTradeoff(stdout, o, rows)
}

func systemName(shape string, xqg bool) string {
	size := map[string]string{"minilm-l12": "S", "bert-base": "M", "xlmr-large": "L"}[shape]
	if size != "" {
		shape = size + " " + shape
	}
	if xqg {
		return shape + " + xQG"
	}
	return shape
}

func benchFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// measureSystem starts xqg serve (in this process, with its plugin process) on cfg and measures it.
func measureSystem(ctx context.Context, stderr io.Writer, cfg config.Config, shape string, withXQG bool, o tradeoffOpts) (tradeoffRow, error) {
	row := tradeoffRow{System: systemName(shape, withXQG), Shape: shape, XQG: withXQG, Query: map[int]latency{}}
	addr, err := benchFreeAddr()
	if err != nil {
		return row, err
	}
	cfg.Module.Listen = addr
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- serve(sctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}()
	defer func() { cancel(); <-done }()
	url := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute}
	t0 := time.Now()
	for {
		resp, err := client.Get(url + "/.well-known/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			return row, fmt.Errorf("xqg serve exited before ready: %v", err)
		case <-ctx.Done():
			return row, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Fprintf(stderr, "%s: xqg serve ready in %s\n", row.System, time.Since(t0).Round(time.Millisecond))
	vectorize := func(text, task string) error {
		body, _ := json.Marshal(map[string]any{"text": text, "config": map[string]any{"task_type": task}})
		resp, err := client.Post(url+"/vectors", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST /vectors (%s): %d %s", task, resp.StatusCode, b)
		}
		return nil
	}
	// Warm up: ONNX Runtime's first runs allocate.
	for i := range 3 {
		if err := vectorize(benchQuery(-1-i), "query"); err != nil {
			return row, err
		}
	}
	for _, c := range o.concurrency {
		lats := make([]time.Duration, o.requests)
		var next int
		var mu sync.Mutex
		var firstErr error
		var wg sync.WaitGroup
		start := time.Now()
		for range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= o.requests {
						return
					}
					t := time.Now()
					if err := vectorize(benchQuery(c*100000+i), "query"); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					lats[i] = time.Since(t)
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return row, firstErr
		}
		row.Query[c] = summarize(lats, time.Since(start))
	}
	// The passage path: with xQG, generation in every configured language plus fusion.
	start := time.Now()
	for i := range o.passages {
		if err := vectorize(benchPassage(i).WeaviateText(), "passage"); err != nil {
			return row, err
		}
	}
	row.IndexMSPerPassage = float64(time.Since(start)) / 1e6 / float64(o.passages)
	fmt.Fprintf(stderr, "%s: query p50 %.1f ms (c=%d); passage path %.0f ms/passage\n", row.System, row.Query[o.concurrency[0]].P50MS, o.concurrency[0], row.IndexMSPerPassage)
	if !o.noWeaviate {
		if row.NearText, err = measureNearText(ctx, stderr, cfg, url, o); err != nil {
			return row, err
		}
	}
	return row, nil
}

// measureNearText starts a private Weaviate whose text2vec-transformers calls the service, ingests
// the benchmark passages through it (the query cache makes this cheap after the passage path ran),
// and times nearText on each named vector.
func measureNearText(ctx context.Context, stderr io.Writer, cfg config.Config, url string, o tradeoffOpts) (map[string]latency, error) {
	srv, err := launcher.Start(ctx, launcher.Options{Binary: o.weaviateBin, Env: []string{
		"ENABLE_MODULES=text2vec-transformers", "TRANSFORMERS_PASSAGE_INFERENCE_API=" + url,
		"TRANSFORMERS_QUERY_INFERENCE_API=" + url, "TRANSFORMERS_WAIT_FOR_STARTUP=false"}})
	if err != nil {
		return nil, fmt.Errorf("start weaviate (--weaviate-bin, or --no-weaviate to skip): %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Stop(sctx)
	}()
	w := cfg.Weaviate
	w.URL, w.GRPCAddress, w.ServiceURL, w.Collection = srv.URL(), srv.GRPCAddr(), url, "Bench"
	w.Sharding.DesiredCount, w.Replication.Factor = 1, 1
	client, err := collection.Connect(w, true)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "xqg-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	input := filepath.Join(dir, "passages.jsonl")
	var buf bytes.Buffer
	for i := range o.passages {
		p := benchPassage(i)
		b, _ := json.Marshal(map[string]string{"id": p.ID, "title": p.Title, "text": p.Text})
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(input, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	sum, err := ingest.Run(ctx, ingest.Options{Input: input, Client: client, Spec: collection.SpecFromConfig(w),
		BatchSize: 16, CheckpointDir: dir})
	if err != nil {
		return nil, err
	}
	if sum.Failed > 0 {
		return nil, fmt.Errorf("ingest via weaviate: %d passages failed (%s)", sum.Failed, sum.FailedFile)
	}
	out := map[string]latency{}
	for _, target := range []string{collection.VectorXQG, collection.VectorPassage} {
		var lats []time.Duration
		start := time.Now()
		for i := range o.requests {
			t := time.Now()
			hits, err := search.Query(ctx, client, search.Request{Collection: w.Collection, Text: benchQuery(900000 + i), Target: target, K: 10})
			if err != nil {
				return nil, err
			}
			if len(hits) == 0 {
				return nil, fmt.Errorf("nearText on %s found nothing", target)
			}
			lats = append(lats, time.Since(t))
		}
		out[target] = summarize(lats, time.Since(start))
	}
	return out, nil
}

func writeTradeoff(stdout io.Writer, o tradeoffOpts, rows []tradeoffRow) error {
	var pts []eval.TradeoffPoint
	for i := range rows {
		r := &rows[i]
		if v, ok := citedR2kt[r.Shape][r.XQG]; ok {
			r.Effectiveness, r.EffSource = v, "cited"
			pts = append(pts, eval.TradeoffPoint{Label: r.System, LatencyMS: r.Query[o.concurrency[0]].P50MS, Effectiveness: v, Cited: true})
		}
	}
	var b strings.Builder
	b.WriteString("## Latency–effectiveness trade-off\n\n| system |")
	for _, c := range o.concurrency {
		fmt.Fprintf(&b, " query p50 / p95 ms (c=%d) | queries/s (c=%d) |", c, c)
	}
	b.WriteString(" nearText xqg p50 / p95 ms | nearText passage p50 / p95 ms | passage path ms/passage | R@2kt |\n|---|")
	for range o.concurrency {
		b.WriteString("---:|---:|")
	}
	b.WriteString("---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s |", r.System)
		for _, c := range o.concurrency {
			q := r.Query[c]
			fmt.Fprintf(&b, " %.1f / %.1f | %.1f |", q.P50MS, q.P95MS, q.Throughput)
		}
		nt := func(t string) string {
			l, ok := r.NearText[t]
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.1f / %.1f", l.P50MS, l.P95MS)
		}
		eff := "–"
		if r.EffSource != "" {
			eff = fmt.Sprintf("%.1f (%s)", r.Effectiveness, r.EffSource)
		}
		fmt.Fprintf(&b, " %s | %s | %.0f | %s |\n", nt(collection.VectorXQG), nt(collection.VectorPassage), r.IndexMSPerPassage, eff)
	}
	fmt.Fprintf(&b, "\nMeasured on this machine with real-size encoders and generator (%s) with generated weights: %d requests per\n"+
		"concurrency, %d passages, %d generated queries per language of at most %d tokens (the paper: 5 per language).\n"+
		"Queries never run the generator (xqg serve's query path only encodes), so a gap between a shape with and\n"+
		"without xQG at query time is noise or machine load (1-minute load average at the start %s, at the end %s,\n"+
		"on %d CPUs), not xQG; xQG's cost is the passage path, paid once at index time. R@2kt \"cited\": %s;\n"+
		"\"–\": the paper states no figure for this shape, and generated weights make a measured one meaningless.\n",
		o.generator, o.requests, o.passages, o.genQueries, o.genTokens, o.loadStart, loadAverage(), runtime.NumCPU(), citation)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "tradeoff.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"rows": rows, "citation": citation, "generator": o.generator,
		"requests": o.requests, "passages": o.passages, "gen_queries_per_language": o.genQueries, "gen_tokens": o.genTokens,
		"load_average_start": o.loadStart, "load_average_end": loadAverage(), "cpus": runtime.NumCPU()}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "tradeoff.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if len(pts) > 0 {
		if _, err := eval.TradeoffScatter(filepath.Join(o.out, "tradeoff"), "query latency vs effectiveness", "XOR-TyDi dev R@2kt", pts); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, b.String())
	return nil
}
