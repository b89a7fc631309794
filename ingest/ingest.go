// Package ingest streams a passage file (JSONL or the DPR / XOR-TyDi wiki TSV) into the xqg
// collection: in batches, with deterministic object ids, a checkpoint per batch so an interrupted run
// resumes, bounded retries, and a file of the objects that failed with their reasons.
//
// Two paths: with an Embedder (the fast path) the client computes both named vectors in large batches
// and imports them with the objects; without one (--via-weaviate) objects go without vectors and
// Weaviate calls `xqg serve` for each.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/xqg/xqg/collection"
)

// Vectors are the two named vectors of one passage.
type Vectors struct {
	XQG     []float32
	Passage []float32
	// Err fails this passage alone (e.g. input the model rejects).
	Err error
	// Generation is the time spent generating this passage's queries (0 when cached or given), if known.
	Generation time.Duration
}

// Embedder computes both vectors of a batch of passages (the plugin, on the fast path). It must embed
// Passage.WeaviateText so the vectors equal what Weaviate would get from the service.
type Embedder interface {
	Embed(ctx context.Context, passages []Passage) ([]Vectors, error)
}

// Options configure one ingest run.
type Options struct {
	Input  string
	Format string // "" = from the file name
	Client *weaviate.Client
	Spec   collection.Spec
	// Consistency is the consistency level of batch writes (ONE, QUORUM, ALL); "" = Weaviate's default.
	Consistency string
	// Embedder computes the vectors; nil = via Weaviate (the collection must have a service URL).
	Embedder  Embedder
	BatchSize int
	Shard     Shard
	// CheckpointDir holds the checkpoint (and by default the failed file); default .xqg/ingest.
	CheckpointDir string
	// FailedFile receives the failed objects as JSONL with their reasons; default next to the checkpoint.
	FailedFile string
	// Restart ignores an existing checkpoint.
	Restart bool
	// Retries bounds the attempts after the first for a batch request (transport errors, Weaviate
	// restarting) and for embedding; ObjectRetries those for objects Weaviate rejected one by one.
	// Zero means the default (6 and 4); negative means none.
	Retries       int
	ObjectRetries int
	Backoff       time.Duration
	MaxBackoff    time.Duration
	// Progress receives a bar (Terminal) or a plain line every ProgressEvery; nil = silent.
	Progress      io.Writer
	Terminal      bool
	ProgressEvery time.Duration
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Shard.N == 0 {
		o.Shard = All
	}
	if o.CheckpointDir == "" {
		o.CheckpointDir = filepath.Join(".xqg", "ingest")
	}
	// Zero means the default; a negative count disables retries.
	switch {
	case o.Retries == 0:
		o.Retries = 6
	case o.Retries < 0:
		o.Retries = 0
	}
	switch {
	case o.ObjectRetries == 0:
		o.ObjectRetries = 4
	case o.ObjectRetries < 0:
		o.ObjectRetries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
}

// Summary is what a run did.
type Summary struct {
	Imported int64 // objects written in this run
	Skipped  int64 // passages of this shard a previous run already committed (resume)
	Failed   int64 // objects written to the failed file in this run
	// FailedTotal counts every object in the failed file: this run's and those of the runs it resumes.
	FailedTotal int64
	OtherShard  int64 // records that belong to other shards
	Created     bool  // the collection was created by this run
	Resumed     bool
	Elapsed     time.Duration
	// EmbedTime and ImportTime are the time spent in the embedder and in Weaviate's batch requests;
	// GenerationTime is the part of EmbedTime the embedder reports as query generation.
	EmbedTime      time.Duration
	ImportTime     time.Duration
	GenerationTime time.Duration
	Checkpoint     string
	FailedFile     string // empty when nothing failed
}

// Rate is imported passages per second.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Imported) / s.Elapsed.Seconds()
}

func (s Summary) String() string {
	line := fmt.Sprintf("imported %d, skipped %d, failed %d in %s (%.1f passages/s)",
		s.Imported, s.Skipped, s.Failed, s.Elapsed.Round(time.Millisecond), s.Rate())
	if s.OtherShard > 0 {
		line += fmt.Sprintf("; %d records belong to other shards", s.OtherShard)
	}
	if s.FailedFile != "" {
		line += "; failed objects and reasons in " + s.FailedFile + " (a valid input to retry them)"
	}
	return line
}

// batch is a run of consecutive records; committing it moves the checkpoint to end.
type batch struct {
	items   []record
	vectors []Vectors // by index of items; nil entries for invalid records
	embErr  error
	embTime time.Duration
	genTime time.Duration
	end     int64
	records int64
	other   int64
}

// Run ingests opts.Input. On cancellation it returns the context's error with the summary so far;
// the checkpoint holds everything committed.
func Run(ctx context.Context, opts Options) (Summary, error) {
	opts.defaults()
	start := time.Now()
	var sum Summary
	if opts.Client == nil {
		return sum, errors.New("ingest: no Weaviate client")
	}
	if opts.Embedder == nil && opts.Spec.BringYourOwn() {
		return sum, errors.New("ingest via Weaviate needs a service for Weaviate to call: set weaviate.service_url (or ingest with the plugin, the fast path)")
	}
	input, err := filepath.Abs(opts.Input)
	if err != nil {
		return sum, err
	}
	format := opts.Format
	if format == "" {
		if format, err = DetectFormat(input); err != nil {
			return sum, err
		}
	}
	if format != FormatJSONL && format != FormatTSV {
		return sum, fmt.Errorf("--format %q: want jsonl or tsv", format)
	}
	st, err := os.Stat(input)
	if err != nil {
		return sum, fmt.Errorf("input: %w", err)
	}
	if st.IsDir() {
		return sum, fmt.Errorf("input %s is a folder, want a .jsonl or .tsv file", input)
	}

	cpPath := CheckpointPath(opts.CheckpointDir, input, opts.Spec.Name, opts.Shard)
	sum.Checkpoint = cpPath
	var cp *Checkpoint
	if !opts.Restart {
		if cp, err = LoadCheckpoint(cpPath); err != nil {
			return sum, err
		}
	}
	if cp != nil {
		if cp.InputSize != st.Size() || !cp.InputMTime.Equal(st.ModTime().UTC()) {
			return sum, fmt.Errorf("%s changed since the checkpoint %s (size %d→%d); pass --restart to ingest it from the start",
				input, cpPath, cp.InputSize, st.Size())
		}
		sum.Resumed = true
		sum.Skipped = cp.Imported + cp.Failed
		if cp.Done {
			// Earlier failures stay reported: a re-run must not look like a clean import.
			if sum.FailedTotal = cp.Failed; cp.Failed > 0 {
				sum.FailedFile = cp.FailedFile
			}
			sum.Elapsed = time.Since(start)
			return sum, nil
		}
	} else {
		cp = &Checkpoint{Input: input, InputSize: st.Size(), InputMTime: st.ModTime().UTC(), Collection: opts.Spec.Name,
			Shard: opts.Shard.String(), Started: time.Now().UTC()}
	}

	if sum.Created, err = collection.Ensure(ctx, opts.Client, opts.Spec); err != nil {
		return sum, err
	}

	failedPath := opts.FailedFile
	if failedPath == "" {
		failedPath = FailedPath(cpPath)
	}
	if abs, err := filepath.Abs(failedPath); err == nil && abs == input {
		return sum, fmt.Errorf("the failed-objects file %s is the input: choose another --failed", failedPath)
	}
	cp.FailedFile = failedPath
	failed, err := openFailed(failedPath, sum.Resumed, cp.FailedSize)
	if err != nil {
		return sum, err
	}
	defer failed.close()

	f, err := os.Open(input)
	if err != nil {
		return sum, fmt.Errorf("input: %w", err)
	}
	defer f.Close()
	rd, err := openReader(f, input, format, cp.Offset, cp.Records)
	if err != nil {
		return sum, err
	}
	if err := cp.Save(cpPath); err != nil {
		return sum, err
	}

	prog := newProgress(opts.Progress, opts.Terminal, opts.ProgressEvery, st.Size(), cp.Offset)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 1)
	embedded := make(chan *batch, 1)
	readErr := make(chan error, 1)
	go func() { readErr <- produce(ctx, rd, opts, batches) }()
	go func() {
		defer close(embedded)
		for b := range batches {
			if opts.Embedder != nil {
				embed(ctx, opts, b)
			}
			select {
			case embedded <- b:
			case <-ctx.Done():
				return
			}
		}
	}()

	imp := importer{opts: opts}
	for b := range embedded {
		sum.EmbedTime += b.embTime
		sum.GenerationTime += b.genTime
		t0 := time.Now()
		ok, fails := imp.importBatch(ctx, b)
		sum.ImportTime += time.Since(t0)
		if ctx.Err() != nil {
			break // this batch is not committed: the resumed run redoes it
		}
		for _, fl := range fails {
			if err := failed.write(fl); err != nil {
				return finish(sum, start, prog), err
			}
		}
		if err := failed.sync(); err != nil {
			return finish(sum, start, prog), err
		}
		sum.Imported += ok
		sum.Failed += int64(len(fails))
		sum.OtherShard += b.other
		cp.Offset, cp.Records = b.end, cp.Records+b.records
		cp.Imported += ok
		cp.Failed += int64(len(fails))
		cp.OtherShard += b.other
		cp.FailedSize = failed.size
		if err := cp.Save(cpPath); err != nil {
			return finish(sum, start, prog), err
		}
		prog.update(cp.Offset, sum.Imported, sum.Failed)
	}
	interrupted := ctx.Err()
	cancel()
	rerr := <-readErr
	if interrupted != nil {
		return finish(sum, start, prog), fmt.Errorf("ingest interrupted (the checkpoint %s resumes it): %w", cpPath, interrupted)
	}
	if rerr != nil {
		return finish(sum, start, prog), rerr
	}
	cp.Done = true
	if err := cp.Save(cpPath); err != nil {
		return finish(sum, start, prog), err
	}
	if sum.FailedTotal = cp.Failed; cp.Failed > 0 {
		sum.FailedFile = failedPath
	}
	return finish(sum, start, prog), nil
}

func finish(sum Summary, start time.Time, p *progress) Summary {
	sum.Elapsed = time.Since(start)
	p.done(sum)
	return sum
}

func openReader(f *os.File, name, format string, offset, records int64) (reader, error) {
	if format == FormatJSONL {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, fmt.Errorf("%s: seek to the checkpoint: %w", name, err)
		}
		return newJSONLReader(name, f, offset, int(records)), nil
	}
	if offset == 0 {
		return newTSVReader(name, f, 0)
	}
	cols, n, err := readTSVHeader(name, f)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: seek to the checkpoint: %w", name, err)
	}
	t, err := newTSVReader(name, f, offset)
	if err != nil {
		return nil, err
	}
	t.cols, t.ncols = cols, n
	return t, nil
}

// produce reads records into batches of this shard's passages. A batch also closes after a long run
// of other shards' records, so the checkpoint keeps moving.
func produce(ctx context.Context, rd reader, opts Options, out chan<- *batch) error {
	defer close(out)
	b := &batch{}
	send := func() error {
		select {
		case out <- b:
			b = &batch{}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		r, err := rd.next()
		if errors.Is(err, io.EOF) {
			if b.records > 0 {
				if err := send(); err != nil {
					return err
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
		b.records++
		b.end = r.end
		if r.err == nil && !opts.Shard.Contains(r.passage.ID) {
			b.other++
		} else {
			b.items = append(b.items, r)
		}
		if len(b.items) >= opts.BatchSize || b.other >= int64(opts.BatchSize)*16 {
			if err := send(); err != nil {
				return err
			}
		}
	}
}

func embed(ctx context.Context, opts Options, b *batch) {
	var ps []Passage
	var idx []int
	for i, r := range b.items {
		if r.err == nil {
			ps = append(ps, r.passage)
			idx = append(idx, i)
		}
	}
	b.vectors = make([]Vectors, len(b.items))
	if len(ps) == 0 {
		return
	}
	t0 := time.Now()
	defer func() { b.embTime = time.Since(t0) }()
	var vs []Vectors
	err := retry(ctx, opts.Retries, opts.Backoff, opts.MaxBackoff, func() error {
		var err error
		vs, err = opts.Embedder.Embed(ctx, ps)
		if err == nil && len(vs) != len(ps) {
			err = fmt.Errorf("embedder returned %d vectors for %d passages", len(vs), len(ps))
		}
		return err
	})
	if err != nil {
		b.embErr = fmt.Errorf("embed: %w", err)
		return
	}
	for j, i := range idx {
		b.vectors[i] = vs[j]
		b.genTime += vs[j].Generation
	}
}

// failure is one object that could not be imported.
type failure struct {
	rec    record
	reason string
}

type importer struct {
	opts Options
}

// importBatch writes a batch and returns how many objects Weaviate stored and which failed.
func (im *importer) importBatch(ctx context.Context, b *batch) (int64, []failure) {
	var fails []failure
	pending := map[string]int{} // object id → index in b.items
	var objs []*models.Object
	for i, r := range b.items {
		switch {
		case r.err != nil:
			fails = append(fails, failure{rec: r, reason: "invalid input: " + r.err.Error()})
		case b.embErr != nil:
			fails = append(fails, failure{rec: r, reason: b.embErr.Error()})
		case b.vectors != nil && b.vectors[i].Err != nil:
			fails = append(fails, failure{rec: r, reason: "embed: " + b.vectors[i].Err.Error()})
		default:
			o := im.object(r.passage, b.vectors, i)
			pending[o.ID.String()] = i
			objs = append(objs, o)
		}
	}
	var ok int64
	reasons := map[string]string{}
	for attempt := 0; len(objs) > 0; attempt++ {
		var resp []models.ObjectsGetResponse
		err := retry(ctx, im.opts.Retries, im.opts.Backoff, im.opts.MaxBackoff, func() error {
			var err error
			resp, err = im.opts.Client.Batch().ObjectsBatcher().WithObjects(objs...).
				WithConsistencyLevel(im.opts.Consistency).Do(ctx)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return ok, nil
			}
			for _, o := range objs {
				reasons[o.ID.String()] = "batch request: " + err.Error()
			}
			break
		}
		var again []*models.Object
		byID := map[string]*models.Object{}
		for _, o := range objs {
			byID[o.ID.String()] = o
		}
		for _, r := range resp {
			id := r.ID.String()
			if msg := resultError(r); msg != "" {
				reasons[id] = msg
				if o := byID[id]; o != nil {
					again = append(again, o)
				}
				continue
			}
			delete(reasons, id)
			delete(byID, id)
			ok++
		}
		// Objects the response did not mention are retried too.
		for id, o := range byID {
			if _, failed := reasons[id]; !failed {
				reasons[id] = "not in Weaviate's batch response"
				again = append(again, o)
			}
		}
		if len(again) == 0 || attempt >= im.opts.ObjectRetries {
			break
		}
		objs = again
		if sleep(ctx, backoff(attempt, im.opts.Backoff, im.opts.MaxBackoff)) != nil {
			return ok, nil
		}
	}
	for id, reason := range reasons {
		fails = append(fails, failure{rec: b.items[pending[id]], reason: reason})
	}
	return ok, fails
}

func (im *importer) object(p Passage, vectors []Vectors, i int) *models.Object {
	props := map[string]any{collection.PropPassageID: p.ID, collection.PropText: p.Text}
	// An empty title is left out: Weaviate would add an empty string to the text it vectorizes.
	if p.Title != "" {
		props[collection.PropTitle] = p.Title
	}
	for k, v := range p.Extra {
		props[k] = v
	}
	o := &models.Object{Class: im.opts.Spec.Name, ID: strfmt.UUID(ObjectID(p.ID)), Properties: props}
	if vectors != nil && vectors[i].XQG != nil {
		o.Vectors = models.Vectors{collection.VectorXQG: vectors[i].XQG, collection.VectorPassage: vectors[i].Passage}
	}
	return o
}

func resultError(r models.ObjectsGetResponse) string {
	if r.Result == nil || r.Result.Errors == nil || len(r.Result.Errors.Error) == 0 {
		return ""
	}
	var msgs []string
	for _, e := range r.Result.Errors.Error {
		if e != nil && e.Message != "" {
			msgs = append(msgs, e.Message)
		}
	}
	if len(msgs) == 0 {
		return "failed (no reason given)"
	}
	return strings.Join(msgs, "; ")
}

// retry runs f up to 1+n times with exponential backoff and jitter between attempts.
func retry(ctx context.Context, n int, base, max time.Duration, f func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = f(); err == nil || ctx.Err() != nil || attempt >= n {
			return err
		}
		if sleep(ctx, backoff(attempt, base, max)) != nil {
			return err
		}
	}
}

func backoff(attempt int, base, max time.Duration) time.Duration {
	d := base << min(attempt, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failedFile is the JSONL file of failed objects.
type failedFile struct {
	path string
	f    *os.File
	size int64
}

func openFailed(path string, resume bool, size int64) (*failedFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("failed-objects file: %w", err)
	}
	flags := os.O_RDWR | os.O_CREATE
	if !resume {
		flags |= os.O_TRUNC
		size = 0
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed-objects file: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed-objects file: %w", err)
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed-objects file: %w", err)
	}
	return &failedFile{path: path, f: f, size: size}, nil
}

// write records one failure as a JSONL input record plus its reason.
func (ff *failedFile) write(fl failure) error {
	var m map[string]any
	if fl.rec.err == nil {
		p := fl.rec.passage
		m = map[string]any{"id": p.ID, "text": p.Text}
		if p.Title != "" {
			m["title"] = p.Title
		}
		if len(p.Queries) > 0 {
			m["generated_queries"] = p.Queries
		}
		for k, v := range p.Extra {
			m[k] = v
		}
	} else {
		// Invalid input: keep what was read, so the user sees and can fix it.
		m = map[string]any{"raw": string(fl.rec.raw)}
		_ = json.Unmarshal(fl.rec.raw, &m)
	}
	m[FailedErrorKey] = fl.reason
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("failed-objects file: %w", err)
	}
	n, err := ff.f.Write(append(b, '\n'))
	ff.size += int64(n)
	if err != nil {
		return fmt.Errorf("failed-objects file %s: %w", ff.path, err)
	}
	return nil
}

func (ff *failedFile) sync() error { return ff.f.Sync() }

// close removes the file when nothing failed.
func (ff *failedFile) close() {
	_ = ff.f.Close()
	if ff.size == 0 {
		_ = os.Remove(ff.path)
	}
}
