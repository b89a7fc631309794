package module

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/xqg/xqg/plugin"
)

// Backend is what the service needs from a vectorizer: the plugin contract (plugin.Vectorizer), which
// plugin/host's supervised process provides. Errors wrapping plugin.ErrInvalidInput become 400s,
// plugin.ErrUnavailable 503s.
type Backend interface {
	Info(ctx context.Context) (plugin.Info, error)
	EmbedPassages(ctx context.Context, passages []plugin.Passage, opts plugin.Options) ([]plugin.PassageResult, error)
	EmbedQueries(ctx context.Context, texts []string) ([]plugin.QueryResult, error)
	Health(ctx context.Context) error
}

// Restarter is optionally implemented by a Backend that supervises a process; /metrics reports it.
type Restarter interface {
	Restarts() int
}

// task is what a text is vectorized as.
type task string

const (
	taskPassage task = "passage" // xQG-fused passage vector
	taskPlain   task = "plain"   // plain passage vector (the /plain prefix)
	taskQuery   task = "query"   // plain query encoding, never generation
)

// encoded is one text's outcome, whatever the task.
type encoded struct {
	vector     []float32
	truncated  bool
	cacheHit   bool
	generation time.Duration
	err        error
}

// engine adapts a Backend to the per-task batch calls the batchers make.
type engine struct {
	backend Backend
}

func newEngine(b Backend) engine { return engine{backend: b} }

func (e *engine) restarts() float64 {
	if r, ok := e.backend.(Restarter); ok {
		return float64(r.Restarts())
	}
	return 0
}

// info reads the backend's Info as the map /meta serves, plus its dimension.
func (e *engine) info(ctx context.Context) (map[string]any, int, error) {
	info, err := e.backend.Info(ctx)
	if err != nil {
		return nil, 0, err
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return nil, 0, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, 0, err
	}
	return m, info.Dimension, nil
}

// run computes one batch. A failure of the whole call fails every text; a failure of one text is in its
// own encoded.err, so one bad input fails only its own caller.
func (e *engine) run(ctx context.Context, t task, texts []string) ([]encoded, error) {
	out := make([]encoded, len(texts))
	switch t {
	case taskQuery:
		res, err := e.backend.EmbedQueries(ctx, texts)
		if err != nil {
			return nil, classify(err)
		}
		if len(res) != len(texts) {
			return nil, fmt.Errorf("backend returned %d query results for %d texts", len(res), len(texts))
		}
		for i, r := range res {
			out[i] = encoded{vector: r.Vector, truncated: r.Truncated, err: classify(r.Err)}
		}
	default:
		ps := make([]plugin.Passage, len(texts))
		for i, t := range texts {
			ps[i] = plugin.Passage{ID: strconv.Itoa(i), Text: t}
		}
		// PlainOnly: the plain vector needs no generation. WithParts too, and the vector read from the
		// passage_vector part, so that a backend predating PlainOnly (which ignores it) still answers right.
		opts := plugin.Options{WithParts: t == taskPlain, PlainOnly: t == taskPlain}
		res, err := e.backend.EmbedPassages(ctx, ps, opts)
		if err != nil {
			return nil, classify(err)
		}
		if len(res) != len(texts) {
			return nil, fmt.Errorf("backend returned %d passage results for %d texts", len(res), len(texts))
		}
		for i, r := range res {
			o := encoded{vector: r.Vector, truncated: r.Truncated, cacheHit: r.CacheHit, generation: r.GenerationTime, err: classify(r.Err)}
			if t == taskPlain && o.err == nil {
				o.vector = r.PassageVector
				if len(o.vector) == 0 {
					o.err = errors.New("backend returned no plain passage vector")
				}
			}
			out[i] = o
		}
	}
	return out, nil
}

// classify maps the plugin's sentinel errors to HTTP statuses.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, plugin.ErrInvalidInput):
		return &backendError{kind: errInvalid, msg: "backend rejected the input", err: err}
	case plugin.Retryable(err):
		return unavailable("vectorizer backend unavailable, retry later", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return unavailable("vectorizer call ended early", err)
	default:
		return &backendError{kind: errInternal, msg: "vectorizer backend failed", err: err}
	}
}

func (s *Server) newTaskBatcher(t task) *batcher[string, encoded] {
	run := func(ctx context.Context, texts []string) (_ []encoded, err error) {
		defer func() {
			if v := recover(); v != nil {
				s.metrics.panics.Inc()
				s.log.Error("backend call panic", "task", t, "batch", len(texts), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				err = &backendError{kind: errInternal, msg: fmt.Sprintf("internal error: %v", v)}
			}
		}()
		e, err := s.backendFor()
		if err != nil {
			return nil, err
		}
		s.metrics.batchSize.WithLabelValues(string(t)).Observe(float64(len(texts)))
		s.metrics.items.WithLabelValues(string(t)).Add(float64(len(texts)))
		out, err := e.run(ctx, t, texts)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.err != nil {
				continue
			}
			if o.truncated {
				s.metrics.truncated.WithLabelValues(string(t)).Inc()
			}
			switch {
			case t == taskQuery:
			case !o.cacheHit:
				// Also for a plain vector: a backend predating PlainOnly generates anyway, and this shows it.
				s.metrics.cacheMiss.Inc()
				s.metrics.generation.Observe(o.generation.Seconds())
			case t != taskPlain: // a plain vector looks no queries up, so it is no hit either
				s.metrics.cacheHits.Inc()
			}
		}
		return out, nil
	}
	return newBatcher(s.opts.BatchSize, s.opts.BatchWait, run)
}

func (s *Server) batcherFor(t task) *batcher[string, encoded] {
	switch t {
	case taskPlain:
		return s.plain
	case taskQuery:
		return s.query
	default:
		return s.fused
	}
}

// Waiter is optionally implemented by a Backend that can say when it serves again after a crash
// (plugin/host's supervisor does).
type Waiter interface {
	WaitReady(ctx context.Context) error
}

// encode vectorizes one text through its task's batcher. A call that fails because the plugin died or
// is restarting is retried once when the supervisor has it back (within Options.RetryWait and the
// request's own deadline): Weaviate does not retry a failed object, so a crash would otherwise fail every
// object in flight. Retrying once bounds what an input that crashes the plugin can do.
func (s *Server) encode(ctx context.Context, t task, text string) (encoded, error) {
	o, err := s.encodeOnce(ctx, t, text)
	if err == nil || s.opts.RetryWait <= 0 || statusOf(err) != 503 || errors.Is(err, errBatcherClosed) || ctx.Err() != nil {
		return o, err
	}
	e := s.engine.Load()
	if e == nil {
		return o, err
	}
	w, ok := e.backend.(Waiter)
	if !ok {
		return o, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.RetryWait)
	werr := w.WaitReady(wctx)
	cancel()
	if werr != nil {
		return o, err
	}
	s.metrics.retries.WithLabelValues(string(t)).Inc()
	return s.encodeOnce(ctx, t, text)
}

func (s *Server) encodeOnce(ctx context.Context, t task, text string) (encoded, error) {
	o, err := s.batcherFor(t).Do(ctx, text)
	if err != nil {
		return encoded{}, err
	}
	return o, o.err
}
