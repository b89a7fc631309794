package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/plugin/host"
)

const (
	defaultCheckpointDir = ".xqg/ingest"
	viaWeaviateTimeout   = 10 * time.Minute
)

type ingestFlags struct {
	format, shard, checkpointDir, failed string
	viaWeaviate, restart, rest           bool
	batchSize, retries                   int
}

func newIngestCmd(g *globalFlags) *cobra.Command {
	f := &ingestFlags{}
	cmd := &cobra.Command{
		Use:   "ingest FILE",
		Short: "Import passages (JSONL or DPR/XOR-TyDi wiki TSV) into the xqg collection",
		Long: `ingest streams FILE into weaviate.collection, creating the collection when missing (or checking an
existing one is compatible). JSONL records: id, title, text, optional generated_queries {lang: [..]},
other fields kept as properties. TSV: the DPR / XOR-TyDi wiki format (header id<TAB>text<TAB>title).

Fast path (default): the xqg-vectorizer plugin computes both named vectors (xqg, passage) in batches and
the client imports them over gRPC. --via-weaviate: objects go without vectors and Weaviate calls
xqg serve (weaviate.service_url) for each; the client then waits up to 10m (or weaviate.timeout if
longer) per batch request, and Weaviate needs MODULES_CLIENT_TIMEOUT above a batch's generation time.

Object ids are UUID v5 of the passage id, so re-running never duplicates. A checkpoint per batch
(--checkpoint-dir) lets an interrupted run resume; --shard I/N takes one deterministic part of the input
(FNV-1a of the id) with its own checkpoint, for N parallel workers. Objects that still fail after the
retries go to a JSONL file with their reasons, which is itself a valid input to retry them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runIngest(ctx, c.OutOrStdout(), c.ErrOrStderr(), l.Config, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "jsonl or tsv (default: from the file name)")
	fl.BoolVar(&f.viaWeaviate, "via-weaviate", false, "send objects without vectors; Weaviate calls xqg serve (needs weaviate.service_url)")
	fl.IntVar(&f.batchSize, "batch-size", 256, "passages per embedding call and per import batch")
	fl.StringVar(&f.shard, "shard", "0/1", "take part I of N of the input (I/N, 0 <= I < N)")
	fl.StringVar(&f.checkpointDir, "checkpoint-dir", defaultCheckpointDir, "folder of the checkpoints and default failed files")
	fl.StringVar(&f.failed, "failed", "", "file for failed objects (default: next to the checkpoint)")
	fl.BoolVar(&f.restart, "restart", false, "ignore an existing checkpoint and ingest from the start")
	fl.IntVar(&f.retries, "retries", 6, "retries of a failed batch request or embedding call (exponential backoff)")
	fl.BoolVar(&f.rest, "rest", false, "import over REST instead of gRPC")
	cmd.AddCommand(newIngestStatusCmd())
	return cmd
}

func runIngest(ctx context.Context, stdout, stderr io.Writer, cfg config.Config, input string, f *ingestFlags) error {
	shard, err := ingest.ParseShard(f.shard)
	if err != nil {
		return usageError(err)
	}
	if f.batchSize < 1 {
		return usageError(fmt.Errorf("--batch-size %d: must be at least 1", f.batchSize))
	}
	if _, err := os.Stat(input); err != nil {
		return usageError(fmt.Errorf("input: %w", err))
	}
	spec := collection.SpecFromConfig(cfg.Weaviate)
	if f.viaWeaviate && spec.BringYourOwn() {
		return usageError(errors.New("--via-weaviate needs weaviate.service_url: the URL of xqg serve as Weaviate reaches it"))
	}
	w := cfg.Weaviate
	if f.viaWeaviate && w.Timeout < viaWeaviateTimeout {
		// A batch request lasts as long as Weaviate takes to have the service vectorize it (generation
		// included); timing out makes the client send it again, which redoes the work.
		w.Timeout = viaWeaviateTimeout
	}
	client, err := collection.Connect(w, !f.rest)
	if err != nil {
		return err
	}
	retries := f.retries
	if retries == 0 {
		retries = -1 // the flag's 0 means none; ingest.Options' 0 means its default
	}
	opts := ingest.Options{
		Input: input, Format: f.format, Client: client, Spec: spec, Consistency: cfg.Weaviate.Consistency,
		BatchSize: f.batchSize, Shard: shard, CheckpointDir: f.checkpointDir, FailedFile: f.failed,
		Restart: f.restart, Retries: retries, Progress: stderr, Terminal: isTerminal(stderr),
	}
	if !f.viaWeaviate {
		h, err := startPlugin(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return err
		}
		defer h.Close()
		opts.Embedder = ingest.PluginEmbedder{V: h}
	}
	sum, err := ingest.Run(ctx, opts)
	fmt.Fprintln(stdout, sum)
	if err != nil {
		if collection.IsIncompatible(err) {
			return usageError(err)
		}
		return err
	}
	if sum.FailedTotal > 0 {
		return fmt.Errorf("%d objects failed; retry them with: xqg ingest %s", sum.FailedTotal, sum.FailedFile)
	}
	return nil
}

// startPlugin starts the supervised vectorizer plugin and waits until its models are loaded.
func startPlugin(ctx context.Context, cfg config.Config, logger *slog.Logger) (*host.Host, error) {
	opts, err := pluginOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	h, err := host.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start the vectorizer plugin %s: %w", opts.Path, err)
	}
	return h, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newIngestStatusCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "status [FILE]",
		Short: "Per-shard progress of ingests, from their checkpoints",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cps, err := ingest.ListCheckpoints(dir)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				abs, err := filepath.Abs(args[0])
				if err != nil {
					return err
				}
				kept := cps[:0]
				for _, cp := range cps {
					if cp.Input == abs {
						kept = append(kept, cp)
					}
				}
				cps = kept
			}
			if len(cps) == 0 {
				fmt.Fprintf(c.OutOrStdout(), "no checkpoints in %s\n", dir)
				return nil
			}
			return printStatus(c.OutOrStdout(), cps)
		},
	}
	cmd.Flags().StringVar(&dir, "checkpoint-dir", defaultCheckpointDir, "folder of the checkpoints")
	return cmd
}

func printStatus(w io.Writer, cps []ingest.Checkpoint) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INPUT\tCOLLECTION\tSHARD\tPROGRESS\tIMPORTED\tFAILED\tSTATE\tUPDATED")
	var imported, failed int64
	for _, cp := range cps {
		state := "in progress"
		if cp.Done {
			state = "done"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f%%\t%d\t%d\t%s\t%s\n", filepath.Base(cp.Input), cp.Collection, cp.Shard,
			100*cp.Progress(), cp.Imported, cp.Failed, state, cp.Updated.Local().Format(time.DateTime))
		imported += cp.Imported
		failed += cp.Failed
	}
	fmt.Fprintf(tw, "total\t\t%d shards\t\t%d\t%d\t\t\n", len(cps), imported, failed)
	return tw.Flush()
}
