package main

import (
	"bufio"
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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/tinymodels"
	"github.com/xqg/xqg/module"
	"github.com/xqg/xqg/search"
)

const demoCollection = "XqgDemo"

type demoFlags struct {
	sample, dataDir string
	k               int
	verbose         bool
}

func newDemoCmd(g *globalFlags) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on the sample corpus: Weaviate, xqg serve, ingest, cross-lingual queries",
		Long: `demo starts weaviate-server and the xqg service (with its plugin) with their data under --data,
ingests the sample corpus (examples/sample) with both named vectors, asks every sample question in its
language against the xqg vector and the plain passage vector, prints the rankings side by side, and
stops everything it started (also on Ctrl-C).

Without encoder.model_dir it uses the tiny generated models, whose weights are random: the pipeline runs,
the rankings mean nothing. docs/models.md says how to export real models.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, c.OutOrStdout(), c.ErrOrStderr(), l.Config, f)
		},
	}
	cmd.Flags().StringVar(&f.sample, "sample", filepath.Join("examples", "sample"), "folder with passages.jsonl and questions.jsonl")
	cmd.Flags().StringVar(&f.dataDir, "data", filepath.Join(".xqg", "demo"), "folder for Weaviate's data, logs and checkpoints (recreated each run)")
	cmd.Flags().IntVarP(&f.k, "k", "k", 3, "results per query")
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "log the service and the plugin to stderr")
	return cmd
}

type demoQuestion struct {
	ID        string `json:"id"`
	Lang      string `json:"lang"`
	Question  string `json:"question"`
	PassageID string `json:"passage_id"`
}

func runDemo(ctx context.Context, stdout, stderr io.Writer, cfg config.Config, f *demoFlags) error {
	passages := filepath.Join(f.sample, "passages.jsonl")
	questions, err := readQuestions(filepath.Join(f.sample, "questions.jsonl"))
	if err != nil {
		return usageError(err)
	}
	if _, err := os.Stat(passages); err != nil {
		return usageError(fmt.Errorf("sample corpus: %w", err))
	}
	fmt.Fprintln(stderr, "demo: checking setup")
	bin, err := launcher.FindBinary()
	if err != nil {
		return fmt.Errorf("%w (run `make setup` or `xqg setup`)", err)
	}
	if _, err := findPlugin(cfg.Plugin.Path); err != nil {
		return err
	}
	if cfg.Encoder.ModelDir == "" {
		enc, gen, err := tinymodels.Ensure(cacheRoot(cfg))
		if err != nil {
			return fmt.Errorf("write the tiny models: %w", err)
		}
		cfg.Encoder.ModelDir = enc
		if cfg.Generator.ModelDir == "" {
			if _, err := os.Stat(filepath.Join(gen, "config.json")); err == nil {
				cfg.Generator.ModelDir = gen
				// Few short queries: the tiny generator's output is noise anyway.
				cfg.Generator.QueriesPerLanguage, cfg.Generator.MaxNewTokens = 2, 8
			}
		}
		loudWarning(stderr)
	}

	if err := os.RemoveAll(f.dataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(f.dataDir, 0o755); err != nil {
		return err
	}
	logLevel := slog.LevelWarn
	if f.verbose {
		logLevel = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))

	// The service, in this process: the plugin host behind module's HTTP handler, on a free port.
	fmt.Fprintln(stderr, "demo: starting the vectorizer plugin")
	h, err := startPlugin(ctx, cfg, logger)
	if err != nil && cfg.Generator.ModelDir != "" && strings.Contains(err.Error(), "not available in this build") {
		fmt.Fprintln(stderr, "demo: this plugin build cannot generate queries; continuing without xQG generation (xqg = passage)")
		cfg.Generator.ModelDir = ""
		h, err = startPlugin(ctx, cfg, logger)
	}
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	svc := module.New(module.OptionsFrom(cfg, logger))
	svc.Attach(h)
	svcCtx, stopSvc := context.WithCancel(context.WithoutCancel(ctx))
	svcDone := make(chan error, 1)
	go func() { svcDone <- svc.Serve(svcCtx, ln, 5*time.Second) }()
	defer func() { stopSvc(); <-svcDone }()
	serviceURL := "http://" + ln.Addr().String()
	if err := waitHTTP(ctx, serviceURL+"/.well-known/ready", time.Minute); err != nil {
		return fmt.Errorf("xqg service not ready: %w", err)
	}

	fmt.Fprintf(stderr, "demo: starting weaviate-server (data and log in %s)\n", f.dataDir)
	srv, err := launcher.Start(ctx, launcher.Options{
		Binary: bin, DataDir: filepath.Join(f.dataDir, "weaviate"), LogFile: filepath.Join(f.dataDir, "weaviate.log"),
		Env: []string{
			"ENABLE_MODULES=" + collection.Transformers,
			"TRANSFORMERS_PASSAGE_INFERENCE_API=" + serviceURL,
			"TRANSFORMERS_QUERY_INFERENCE_API=" + serviceURL,
			"MODULES_CLIENT_TIMEOUT=10m",
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(stopCtx); err != nil {
			fmt.Fprintln(stderr, "demo: stop weaviate:", err)
		}
	}()

	w := cfg.Weaviate
	w.URL, w.GRPCAddress, w.Collection, w.ServiceURL = srv.URL(), srv.GRPCAddr(), demoCollection, serviceURL
	w.Sharding.DesiredCount, w.Replication.Factor = 1, 1
	client, err := collection.Connect(w, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "demo: ingesting the sample corpus (fast path: the plugin computes both vectors)")
	sum, err := ingest.Run(ctx, ingest.Options{
		Input: passages, Client: client, Spec: collection.SpecFromConfig(w), Consistency: w.Consistency,
		Embedder: ingest.PluginEmbedder{V: h}, BatchSize: 16, CheckpointDir: filepath.Join(f.dataDir, "ingest"),
		Progress: stderr, Terminal: isTerminal(stderr),
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "demo:", sum)

	fmt.Fprintf(stdout, "\n%d questions in %d languages against %d English passages (top %d; * = the passage that answers it)\n\n",
		len(questions), countLangs(questions), sum.Imported, f.k)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LANG\tQUESTION\tANSWER\tXQG TOP\tXQG RANK\tPASSAGE TOP\tPASSAGE RANK")
	score := map[string]*demoScore{collection.VectorXQG: {}, collection.VectorPassage: {}}
	for _, q := range questions {
		row := []string{q.Lang, search.Snippet(q.Question, 40), q.PassageID}
		for _, target := range []string{collection.VectorXQG, collection.VectorPassage} {
			hits, err := search.Query(ctx, client, search.Request{Collection: demoCollection, Text: q.Question, Target: target, K: f.k})
			if err != nil {
				return err
			}
			rank := 0
			for _, hit := range hits {
				if hit.PassageID == q.PassageID {
					rank = hit.Rank
					break
				}
			}
			score[target].add(rank)
			top := "-"
			if len(hits) > 0 {
				top = hits[0].PassageID + " " + search.Snippet(hits[0].Title, 18)
				if rank == 1 {
					top = "*" + top
				}
			}
			r := "-"
			if rank > 0 {
				r = fmt.Sprint(rank)
			}
			row = append(row, top, r)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%-8s  hits@1 %3d/%d   hits@%d %3d/%d   MRR@%d %.3f\n", "xqg", score["xqg"].at1, len(questions), f.k,
		score["xqg"].found, len(questions), f.k, score["xqg"].mrr/float64(len(questions)))
	fmt.Fprintf(stdout, "%-8s  hits@1 %3d/%d   hits@%d %3d/%d   MRR@%d %.3f\n", "passage", score["passage"].at1, len(questions), f.k,
		score["passage"].found, len(questions), f.k, score["passage"].mrr/float64(len(questions)))
	if strings.Contains(cfg.Encoder.ModelDir, "tinymodels") {
		loudWarning(stdout)
	}
	return nil
}

type demoScore struct {
	at1, found int
	mrr        float64
}

func (s *demoScore) add(rank int) {
	if rank == 1 {
		s.at1++
	}
	if rank > 0 {
		s.found++
		s.mrr += 1 / float64(rank)
	}
}

func loudWarning(w io.Writer) {
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(w, `%s
!!  WARNING: no encoder.model_dir is configured, so this demo uses the TINY GENERATED MODELS.
!!  Their weights are RANDOM: the demo's rankings MEAN NOTHING. The run only shows the pipeline
!!  (Weaviate -> xqg serve -> plugin -> ONNX Runtime, ingest, cross-lingual nearText) working.
!!  For real results export real models and set encoder.model_dir (and generator.model_dir):
!!  see docs/models.md.
%s
`, bar, bar)
}

func readQuestions(path string) ([]demoQuestion, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sample questions: %w", err)
	}
	defer f.Close()
	var out []demoQuestion
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q demoQuestion
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if q.Question == "" || q.PassageID == "" {
			return nil, fmt.Errorf("%s:%d: want question and passage_id", path, line)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New(path + ": no questions")
	}
	return out, nil
}

func countLangs(qs []demoQuestion) int {
	seen := map[string]bool{}
	for _, q := range qs {
		seen[q.Lang] = true
	}
	return len(seen)
}

// waitHTTP polls url until it answers 200.
func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
