package weaviateeval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/search"
)

// CorpusOptions configure IngestCorpus.
type CorpusOptions struct {
	Client *weaviate.Client
	Spec   collection.Spec
	// Embedder computes the vectors in the client (the fast path, the plugin); nil = Weaviate calls
	// the collection's service for each object.
	Embedder ingest.Embedder
	// Dir holds the corpus JSONL written for ingest, the checkpoint and the failed file.
	Dir       string
	BatchSize int
	// Force ingests even when the collection already holds as many objects as the corpus.
	Force    bool
	Progress io.Writer
}

// CorpusResult says what IngestCorpus did.
type CorpusResult struct {
	// Present is how many objects the collection held before.
	Present int64
	// Skipped: the collection already held the corpus, nothing was ingested.
	Skipped bool
	Summary ingest.Summary
}

// Count is the number of objects in the collection, 0 when it does not exist.
func Count(ctx context.Context, client *weaviate.Client, name string) (int64, error) {
	exists, err := client.Schema().ClassExistenceChecker().WithClassName(name).Do(ctx)
	if err != nil {
		return 0, fmt.Errorf("check collection %s: %w", name, err)
	}
	if !exists {
		return 0, nil
	}
	return search.Count(ctx, client, name)
}

// IngestCorpus imports passages into the collection through the ingest package, unless it already
// holds at least as many objects (object ids derive from passage ids, so a repeated ingest never
// duplicates; a collection holding other passages is the caller's mistake to avoid, by naming a
// collection per dataset).
func IngestCorpus(ctx context.Context, name string, passages []eval.Passage, opts CorpusOptions) (CorpusResult, error) {
	if len(passages) == 0 {
		return CorpusResult{}, errors.New("ingest corpus: no passages")
	}
	if opts.Dir == "" {
		return CorpusResult{}, errors.New("ingest corpus: no working folder")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return CorpusResult{}, err
	}
	path := filepath.Join(opts.Dir, name+".corpus.jsonl")
	if err := writeCorpus(path, passages); err != nil {
		return CorpusResult{}, err
	}
	return IngestFile(ctx, path, int64(len(passages)), opts)
}

// IngestFile is IngestCorpus for a passage file (JSONL or the DPR wiki TSV) holding want passages
// (0 = unknown: always ingest).
func IngestFile(ctx context.Context, path string, want int64, opts CorpusOptions) (CorpusResult, error) {
	var res CorpusResult
	var err error
	if res.Present, err = Count(ctx, opts.Client, opts.Spec.Name); err != nil {
		return res, err
	}
	if !opts.Force && want > 0 && res.Present >= want {
		// The schema must still fit: a collection of another configuration would give other vectors.
		if _, err := collection.Ensure(ctx, opts.Client, opts.Spec); err != nil {
			return res, err
		}
		res.Skipped = true
		return res, nil
	}
	res.Summary, err = ingest.Run(ctx, ingest.Options{
		Input: path, Client: opts.Client, Spec: opts.Spec, Embedder: opts.Embedder, BatchSize: opts.BatchSize,
		CheckpointDir: filepath.Join(opts.Dir, "checkpoints"),
		// The corpus file is rewritten on each run, so a checkpoint of an earlier one does not apply.
		Restart:  true,
		Progress: opts.Progress,
	})
	if err != nil {
		return res, err
	}
	if res.Summary.Failed > 0 {
		return res, fmt.Errorf("ingest corpus: %d passages failed (reasons in %s)", res.Summary.Failed, res.Summary.FailedFile)
	}
	return res, nil
}

func writeCorpus(path string, passages []eval.Passage) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range passages {
		if err := enc.Encode(map[string]string{"id": p.ID, "title": p.Title, "text": p.Text}); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
