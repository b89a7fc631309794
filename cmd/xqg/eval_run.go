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
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/eval/nltktok"
	"github.com/xqg/xqg/eval/weaviateeval"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/plugin/host"
)

// evalDataFlags pick a dataset and the collection holding its corpus (eval run, eval corpus).
type evalDataFlags struct {
	kind, dir, queries, corpus, langs, collection, workDir string
	ntrexDocs, viaWeaviate, force                          bool
	maxPassages, maxQueries, batchSize                     int
}

func (f *evalDataFlags) register(cmd *cobra.Command) {
	f.registerData(cmd, "")
	f.registerCollection(cmd)
}

// registerData adds the flags that choose the queries (and corpus) of a dataset.
func (f *evalDataFlags) registerData(cmd *cobra.Command, defaultKind string) {
	f.batchSize = 64
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "dataset", defaultKind, "dataset: "+strings.Join(weaviateeval.Kinds, "|"))
	fl.StringVar(&f.dir, "data", "", "folder of the xquad, ntrex or tatoeba files (e.g. ../shared/data/xquad)")
	fl.StringVar(&f.queries, "queries", "", "xor: XOR-TyDi retrieve questions (jsonl)")
	fl.StringVar(&f.langs, "lang", "", "comma-separated languages (default: every language of the dataset)")
	fl.BoolVar(&f.ntrexDocs, "ntrex-docs", false, "ntrex: the corpus is DOCUMENT_IDS.tsv's documents, not sentences")
	fl.IntVar(&f.maxPassages, "max-passages", 0, "keep the first N corpus passages and the queries they answer (0 = all)")
	fl.IntVar(&f.maxQueries, "max-queries", 0, "at most N queries per language (0 = all)")
}

// registerCollection adds the flags of the collection holding the corpus and of its ingest.
func (f *evalDataFlags) registerCollection(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.collection, "collection", "", "collection holding the corpus (default weaviate.collection)")
	fl.StringVar(&f.corpus, "corpus", "", "xor: the DPR/XOR wiki passages (TSV id, text, title), to ingest")
	fl.BoolVar(&f.viaWeaviate, "via-weaviate", false, "ingest without vectors: Weaviate calls xqg serve (needs weaviate.service_url)")
	fl.BoolVar(&f.force, "force-ingest", false, "ingest even when the collection already holds as many objects as the corpus")
	fl.IntVar(&f.batchSize, "batch-size", 64, "passages per embedding call and import batch")
	fl.StringVar(&f.workDir, "work-dir", filepath.Join(".xqg", "eval"), "folder for the corpus file and ingest checkpoints")
}

// load checks the flags and reads the configuration and the dataset; every error is a usage error.
func (f *evalDataFlags) load(g *globalFlags) (config.Config, *eval.Dataset, error) {
	if f.kind == "" {
		return config.Config{}, nil, usageError(fmt.Errorf("--dataset is required (%s)", strings.Join(weaviateeval.Kinds, ", ")))
	}
	switch f.kind {
	case weaviateeval.XOR:
		if f.queries == "" {
			return config.Config{}, nil, usageError(errors.New("--dataset xor needs --queries XOR_JSONL"))
		}
	case weaviateeval.XQuAD, weaviateeval.NTREX, weaviateeval.Tatoeba:
		if f.dir == "" {
			return config.Config{}, nil, usageError(fmt.Errorf("--dataset %s needs --data DIR", f.kind))
		}
	default:
		return config.Config{}, nil, usageError(fmt.Errorf("--dataset %q: want one of %s", f.kind, strings.Join(weaviateeval.Kinds, ", ")))
	}
	if f.maxPassages < 0 || f.maxQueries < 0 {
		return config.Config{}, nil, usageError(errors.New("--max-passages and --max-queries must not be negative"))
	}
	if f.batchSize < 1 {
		return config.Config{}, nil, usageError(fmt.Errorf("--batch-size %d: must be at least 1", f.batchSize))
	}
	extra := map[string]string{}
	if f.collection != "" {
		extra["weaviate.collection"] = f.collection
	}
	l, err := g.load(extra)
	if err != nil {
		return config.Config{}, nil, err
	}
	var langs []string
	for _, s := range strings.Split(f.langs, ",") {
		if s = strings.TrimSpace(s); s != "" {
			langs = append(langs, s)
		}
	}
	d, err := weaviateeval.LoadDataset(weaviateeval.Source{Kind: f.kind, Dir: f.dir, Queries: f.queries, Langs: langs, NTREXDocs: f.ntrexDocs})
	if err != nil {
		return config.Config{}, nil, usageError(err)
	}
	d = weaviateeval.Limit(d, f.maxPassages, f.maxQueries)
	if len(d.Queries) == 0 {
		return config.Config{}, nil, usageError(errors.New("no queries left after --lang, --max-passages and --max-queries"))
	}
	return l.Config, d, nil
}

// pluginSession starts the vectorizer plugin on first use and closes it at the end.
type pluginSession struct {
	cfg    config.Config
	stderr io.Writer
	h      *host.Host
}

func (p *pluginSession) get(ctx context.Context) (*host.Host, error) {
	if p.h == nil {
		h, err := startPlugin(ctx, p.cfg, slog.New(slog.NewTextHandler(p.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return nil, err
		}
		p.h = h
	}
	return p.h, nil
}

func (p *pluginSession) close() {
	if p.h != nil {
		_ = p.h.Close()
	}
}

// ingestDataset imports the dataset's corpus unless the collection already holds it.
func ingestDataset(ctx context.Context, stderr io.Writer, cfg config.Config, d *eval.Dataset, f *evalDataFlags, ps *pluginSession) error {
	spec := collection.SpecFromConfig(cfg.Weaviate)
	if f.viaWeaviate && spec.BringYourOwn() {
		return usageError(errors.New("--via-weaviate needs weaviate.service_url: the URL of xqg serve as Weaviate reaches it"))
	}
	if f.kind == weaviateeval.XOR && f.corpus == "" {
		return usageError(errors.New("--dataset xor: ingesting needs --corpus WIKI_TSV (the DPR/XOR passages)"))
	}
	client, err := collection.Connect(cfg.Weaviate, true)
	if err != nil {
		return err
	}
	opts := weaviateeval.CorpusOptions{Client: client, Spec: spec, Dir: f.workDir, BatchSize: f.batchSize, Force: f.force, Progress: stderr}
	if !f.viaWeaviate {
		h, err := ps.get(ctx)
		if err != nil {
			return err
		}
		opts.Embedder = ingest.PluginEmbedder{V: h}
	}
	var res weaviateeval.CorpusResult
	if f.kind == weaviateeval.XOR {
		res, err = weaviateeval.IngestFile(ctx, f.corpus, 0, opts)
	} else {
		res, err = weaviateeval.IngestCorpus(ctx, d.Name, d.Corpus, opts)
	}
	if err != nil {
		if collection.IsIncompatible(err) {
			return usageError(err)
		}
		return err
	}
	if res.Skipped {
		fmt.Fprintf(stderr, "collection %s already holds %d objects (corpus: %d passages): not ingested (--force-ingest to ingest anyway)\n",
			spec.Name, res.Present, len(d.Corpus))
	} else {
		fmt.Fprintf(stderr, "collection %s: %s\n", spec.Name, res.Summary)
	}
	return nil
}

func newEvalCorpusCmd(g *globalFlags) *cobra.Command {
	f := &evalDataFlags{}
	cmd := &cobra.Command{
		Use:   "corpus --dataset xquad|xor|ntrex|tatoeba ...",
		Short: "Ingest a dataset's corpus into a collection (skipped when it is already there)",
		Long: `Writes the dataset's corpus (XQuAD: the English paragraphs; NTREX: the English sentences or
documents; Tatoeba: the English sides) as JSONL under --work-dir and ingests it into the collection
through the ingest fast path (the plugin computes both named vectors) or --via-weaviate. XOR-TyDi
ingests the wiki TSV given by --corpus. Skipped when the collection already holds as many objects.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, d, err := f.load(g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ps := &pluginSession{cfg: cfg, stderr: c.ErrOrStderr()}
			defer ps.close()
			return ingestDataset(ctx, c.ErrOrStderr(), cfg, d, f, ps)
		},
	}
	f.register(cmd)
	return cmd
}

func newEvalRunCmd(g *globalFlags) *cobra.Command {
	f := &evalDataFlags{}
	var out, targets, maxTokens, recallKs, punktTab string
	var k, workers, permRounds int
	var seed uint64
	var doIngest, nearVector bool
	cmd := &cobra.Command{
		Use:   "run --dataset xquad|xor|ntrex|tatoeba ... --out DIR",
		Short: "Run a query set against a collection through Weaviate on both named vectors and score it",
		Long: `Runs every query of the dataset against the collection through Weaviate, on each of --targets
(the xqg and passage named vectors, in one run), and reports per language and macro-averaged:
R@2kt and R@5kt exactly as XOR-TyDi's eval_xor_retrieve.py (when queries have answers),
Recall@k, MRR@10 and nDCG@10 (when they have relevance labels), and paired t and permutation
tests between the targets. Writes into --out: report.json, report.md, run.<target>.json (the
official submission format) and per-language charts (PNG, SVG).

Queries go as nearText, so Weaviate encodes them through xqg serve's query path; a collection
without a service (bring-your-own vectors, no weaviate.service_url) or --near-vector encodes them
with the plugin and sends nearVector. --ingest first ingests the corpus when the collection
does not hold it yet (see xqg eval corpus).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usageError(errors.New("--out DIR is required"))
			}
			ts, err := parseTargets(targets)
			if err != nil {
				return usageError(err)
			}
			cuts, err := parseInts("max-tokens", maxTokens)
			if err != nil {
				return usageError(err)
			}
			ks, err := parseInts("recall-k", recallKs)
			if err != nil {
				return usageError(err)
			}
			if k < 1 {
				return usageError(fmt.Errorf("-k %d: must be at least 1", k))
			}
			var tok *nltktok.WordTokenizer
			if punktTab != "" {
				params, err := nltktok.LoadPunktTab(punktTab)
				if err != nil {
					return usageError(err)
				}
				tok = nltktok.NewWordTokenizer(nltktok.NewPunkt(params))
			}
			cfg, d, err := f.load(g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ps := &pluginSession{cfg: cfg, stderr: c.ErrOrStderr()}
			defer ps.close()
			if doIngest {
				if err := ingestDataset(ctx, c.ErrOrStderr(), cfg, d, f, ps); err != nil {
					return err
				}
			}
			r, n, err := ingestedRetriever(ctx, cfg, "xqg eval corpus, or --ingest")
			if err != nil {
				return err
			}
			if nearVector || collection.SpecFromConfig(cfg.Weaviate).BringYourOwn() {
				h, err := ps.get(ctx)
				if err != nil {
					return err
				}
				r.Encoder = h
			}
			rep, err := eval.Evaluate(ctx, r, d.Name, d.Queries, eval.Config{Targets: ts, K: k, MaxTokens: cuts,
				RecallKs: ks, PermRounds: permRounds, Seed: seed, Workers: workers, Scorer: eval.NewXORScorer(tok)})
			if err != nil {
				return err
			}
			files, err := weaviateeval.WriteOutputs(out, rep)
			if err != nil {
				return err
			}
			fmt.Fprint(c.OutOrStdout(), rep.Markdown())
			fmt.Fprintf(c.ErrOrStderr(), "%d queries (%s) against %s (%d objects) on %s; wrote %d files into %s\n",
				len(d.Queries), strings.Join(rep.Langs, ","), cfg.Weaviate.Collection, n, strings.Join(ts, ","), len(files), out)
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "folder for report.json, report.md, run.<target>.json and charts")
	fl.StringVar(&targets, "targets", "xqg,passage", "named vectors to evaluate (the first is compared with the others)")
	fl.IntVarP(&k, "k", "k", 100, "passages retrieved per query")
	fl.StringVar(&maxTokens, "max-tokens", "2000,5000", "R@kt token cut-offs")
	fl.StringVar(&recallKs, "recall-k", "1,5,10,100", "Recall@k cut-offs")
	fl.IntVar(&workers, "workers", 4, "concurrent searches")
	fl.IntVar(&permRounds, "perm-rounds", 10000, "permutation-test rounds")
	fl.Uint64Var(&seed, "seed", 1, "permutation-test seed")
	fl.StringVar(&punktTab, "punkt-tab", "", "NLTK punkt_tab directory with trained Punkt parameters (default: untrained)")
	fl.BoolVar(&doIngest, "ingest", false, "ingest the corpus first when the collection does not hold it")
	fl.BoolVar(&nearVector, "near-vector", false, "encode queries with the plugin and send nearVector (default: nearText when a service is configured)")
	return cmd
}

// parseTargets parses "xqg,passage".
func parseTargets(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if t != collection.VectorXQG && t != collection.VectorPassage {
			return nil, fmt.Errorf("--targets: %q is not a named vector (want %s, %s)", t, collection.VectorXQG, collection.VectorPassage)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--targets: none given")
	}
	return out, nil
}

// ingestedRetriever searches cfg's collection through Weaviate, once it holds objects (it returns
// how many); how tells how to ingest it when it does not.
func ingestedRetriever(ctx context.Context, cfg config.Config, how string) (*weaviateeval.Retriever, int64, error) {
	client, err := collection.Connect(cfg.Weaviate, false)
	if err != nil {
		return nil, 0, err
	}
	n, err := weaviateeval.Count(ctx, client, cfg.Weaviate.Collection)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("collection %s is missing or empty: ingest the corpus first (%s)", cfg.Weaviate.Collection, how)
	}
	return &weaviateeval.Retriever{Client: client, Collection: cfg.Weaviate.Collection}, n, nil
}
