// Package module is the HTTP service Weaviate's built-in text2vec-transformers module calls (and, batched,
// its text2vec-nvidia module): passages become xQG-fused vectors, queries plain query encodings, computed by
// a Backend (the out-of-process vectorizer plugin). Concurrent requests are coalesced into backend batches.
//
// Routes (each also under the /plain prefix, where task_type passage gives the plain passage vector, for a
// collection's second named vector):
//
//	POST /vectors              text2vec-transformers: {"text","config":{"task_type":"passage"|"query"}}
//	GET  /meta                 model identities, dimension, xQG settings (from memory)
//	GET  /.well-known/ready    503 until the backend is up and its models are loaded
//	GET  /.well-known/live     200 while the process serves
//	POST /v1/embeddings        text2vec-nvidia / OpenAI embeddings shape, several inputs per call
//	GET  /metrics              Prometheus
package module

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/versions"
)

// Options configure a Server; zero values take the defaults noted.
type Options struct {
	// BatchSize is the most texts per backend call; ≤ 1 disables micro-batching.
	BatchSize int
	// BatchWait is how long a batch waits for more requests after its first (default 5ms).
	BatchWait time.Duration
	// BodyLimit caps a request body in bytes (default 1 MiB); larger bodies get 413.
	BodyLimit int64
	// HealthInterval is how often the backend's health is polled for /.well-known/ready (default 1s).
	HealthInterval time.Duration
	// RetryWait bounds how long a request that failed because the plugin died waits for it to come back
	// before its one retry (default 30s; negative disables the retry).
	RetryWait time.Duration
	// Settings are extra entries for /meta (the xQG settings the backend does not report itself).
	Settings map[string]any
	// Logger gets structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Server is the inference service. Create it with New, Attach a Backend when it is up (requests before
// that get 503), serve Handler, and Close it when done.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	handler http.Handler

	engine atomic.Pointer[engine]
	meta   atomic.Pointer[metaCache]
	ready  atomic.Bool
	// wake makes the health loop check at once (after Attach) instead of at the next tick.
	wake chan struct{}

	fused, plain, query *batcher[string, encoded]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type metaCache struct {
	info      map[string]any
	dimension int
}

// New returns a Server with no backend yet.
func New(opts Options) *Server {
	if opts.BatchWait <= 0 {
		opts.BatchWait = 5 * time.Millisecond
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 1 << 20
	}
	if opts.RetryWait == 0 {
		opts.RetryWait = 30 * time.Second
	}
	if opts.HealthInterval <= 0 {
		opts.HealthInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
	s.metrics = newMetrics(s.restarts)
	s.fused = s.newTaskBatcher(taskPassage)
	s.plain = s.newTaskBatcher(taskPlain)
	s.query = s.newTaskBatcher(taskQuery)
	s.handler = s.routes()
	s.wg.Add(1)
	go s.healthLoop()
	return s
}

// Attach makes b the backend. The service turns ready once b's health check passes and its Info is read.
func (s *Server) Attach(b Backend) {
	e := newEngine(b)
	s.engine.Store(&e)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Handler is the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready reports whether the last health check passed.
func (s *Server) Ready() bool { return s.ready.Load() }

// Close stops the health loop and the batchers; queued callers get 503. It does not close the backend,
// which belongs to whoever attached it.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
	s.fused.Close()
	s.plain.Close()
	s.query.Close()
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully: it stops accepting, lets in-flight
// requests finish (up to grace), and closes the Server.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "batch_size", s.opts.BatchSize, "batch_wait", s.opts.BatchWait)
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down", "grace", grace)
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		err = hs.Shutdown(sctx)
		cancel()
		if err != nil {
			_ = hs.Close()
		}
		<-errc
	}
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *Server) restarts() float64 {
	if e := s.engine.Load(); e != nil {
		return e.restarts()
	}
	return 0
}

func (s *Server) healthLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.HealthInterval)
	defer t.Stop()
	for {
		s.checkHealth()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Server) checkHealth() {
	e := s.engine.Load()
	if e == nil {
		s.setReady(false, nil)
		return
	}
	// Weaviate's readiness probe gives up after 500ms, so /.well-known/ready answers from this cached state.
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.HealthInterval+2*time.Second)
	defer cancel()
	if err := e.backend.Health(ctx); err != nil {
		s.setReady(false, err)
		return
	}
	if s.meta.Load() == nil {
		info, dim, err := e.info(ctx)
		if err != nil {
			s.setReady(false, fmt.Errorf("backend info: %w", err))
			return
		}
		s.meta.Store(&metaCache{info: info, dimension: dim})
	}
	s.setReady(true, nil)
}

func (s *Server) setReady(ok bool, err error) {
	was := s.ready.Swap(ok)
	if ok {
		s.metrics.ready.Set(1)
	} else {
		s.metrics.ready.Set(0)
	}
	switch {
	case ok && !was:
		s.log.Info("backend ready")
	case !ok && was:
		s.log.Warn("backend not ready", "err", err)
	}
}

// backendFor returns the attached engine or a 503 error.
func (s *Server) backendFor() (*engine, error) {
	e := s.engine.Load()
	if e == nil {
		return nil, unavailable("backend is starting", nil)
	}
	return e, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []struct {
		prefix string
		plain  bool
	}{{"", false}, {"/plain", true}} {
		mux.Handle(p.prefix+"/vectors", s.method(http.MethodPost, s.vectorsHandler(p.plain), writeTransformersError))
		mux.Handle(p.prefix+"/vectors/", s.method(http.MethodPost, s.vectorsHandler(p.plain), writeTransformersError))
		mux.Handle(p.prefix+"/v1/embeddings", s.method(http.MethodPost, s.embeddingsHandler(p.plain), writeEmbeddingsError))
		mux.Handle(p.prefix+"/meta", s.method(http.MethodGet, s.metaHandler(p.plain), writeTransformersError))
		mux.Handle(p.prefix+"/.well-known/ready", s.method(http.MethodGet, http.HandlerFunc(s.readyHandler), writeTransformersError))
		mux.Handle(p.prefix+"/.well-known/live", s.method(http.MethodGet, http.HandlerFunc(s.liveHandler), writeTransformersError))
	}
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeTransformersError(w, &backendError{kind: errNotFound, msg: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return s.recoverer(cleanPath(mux))
}

// method answers a wrong method with a JSON 405 (ServeMux's own is plain text, which Weaviate cannot parse).
func (s *Server) method(m string, h http.Handler, writeErr func(http.ResponseWriter, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m && !(m == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", m)
			writeErr(w, &backendError{kind: errMethod, msg: fmt.Sprintf("%s %s: method not allowed, use %s", r.Method, r.URL.Path, m)})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cleanPath collapses repeated slashes, because an inference URL configured with a trailing slash makes
// Weaviate request "//vectors", which ServeMux would answer with a redirect that turns the POST into a GET.
func cleanPath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			p := r.URL.Path
			for strings.Contains(p, "//") {
				p = strings.ReplaceAll(p, "//", "/")
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = p
			r2.URL.RawPath = ""
			r = r2
		}
		h.ServeHTTP(w, r)
	})
}

// recoverer turns a handler panic into a logged 500 with a JSON body; the service keeps serving.
func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.metrics.panics.Inc()
			s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeTransformersError(w, &backendError{kind: errInternal, msg: fmt.Sprintf("internal error: %v", v)})
		}()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) readyHandler(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeTransformersError(w, unavailable("not ready: the vectorizer backend is not up or its models are not loaded", nil))
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) liveHandler(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func (s *Server) metaHandler(plain bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		out := map[string]any{"ready": s.ready.Load()}
		for k, v := range s.opts.Settings {
			out[k] = v
		}
		if m := s.meta.Load(); m != nil {
			for k, v := range m.info {
				out[k] = v
			}
			out["dimension"] = m.dimension
		}
		passage := "xqg_fused"
		if plain {
			passage = "plain"
		}
		out["passage_vector"] = passage
		out["query_vector"] = "plain"
		writeJSON(w, http.StatusOK, out)
	})
}

// OptionsFrom maps xqg's configuration to Options; logger may be nil.
func OptionsFrom(c config.Config, logger *slog.Logger) Options {
	return Options{
		BatchSize: c.Module.BatchSize,
		BatchWait: c.Module.BatchWait,
		BodyLimit: c.Module.BodyLimit,
		Logger:    logger,
		Settings: map[string]any{
			"service":    "xqg",
			"version":    versions.Version,
			"batch_size": c.Module.BatchSize,
			"batch_wait": c.Module.BatchWait.String(),
		},
	}
}
