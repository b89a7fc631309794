package module

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in a registry per Server (no global state), served on /metrics.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	batchSize  *prometheus.HistogramVec
	items      *prometheus.CounterVec
	generation prometheus.Histogram
	cacheHits  prometheus.Counter
	cacheMiss  prometheus.Counter
	truncated  *prometheus.CounterVec
	panics     prometheus.Counter
	retries    *prometheus.CounterVec
	ready      prometheus.Gauge
}

func newMetrics(restarts func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xqg_module_requests_total",
			Help: "HTTP requests by endpoint, task type (passage, plain, query, or none) and status code.",
		}, []string{"endpoint", "task", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xqg_module_request_duration_seconds",
			Help:    "HTTP request latency by endpoint, task type and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}, []string{"endpoint", "task", "code"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xqg_module_batch_size",
			Help:    "Texts per backend call, by task type (micro-batching coalesces concurrent requests).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"task"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xqg_module_backend_items_total",
			Help: "Texts sent to the backend, by task type.",
		}, []string{"task"}),
		generation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xqg_module_generation_seconds_per_passage",
			Help:    "Query generation time per passage, as the backend reports it (0 when the cache answered).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xqg_module_query_cache_hits_total",
			Help: "Passages whose generated queries came from the query cache or the request.",
		}),
		cacheMiss: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xqg_module_query_cache_misses_total",
			Help: "Passages whose queries were generated.",
		}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xqg_module_truncated_total",
			Help: "Texts longer than the model allows, truncated before encoding, by task type.",
		}, []string{"task"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xqg_module_panics_total",
			Help: "Handler panics recovered.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xqg_module_retries_total",
			Help: "Texts retried once after the plugin came back from a crash or restart, by task type.",
		}, []string{"task"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xqg_module_backend_ready",
			Help: "1 when the backend answered its last health check, else 0.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.batchSize, m.items, m.generation, m.cacheHits, m.cacheMiss,
		m.truncated, m.panics, m.retries, m.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if restarts != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xqg_plugin_restarts_total",
			Help: "Times the supervisor restarted the vectorizer plugin after it died.",
		}, restarts))
	}
	return m
}
