// Package plugin is the contract between xqg and a vectorizer backend running in its own process:
// the Go-facing Vectorizer interface, the go-plugin handshake, and the gRPC client and server
// that carry it (generated code in plugin/proto). The host side that starts and supervises the
// process is plugin/host; the ONNX Runtime backend is cmd/xqg-vectorizer.
//
// Nothing here links ONNX Runtime, so the pure-Go xqg binary can import it.
package plugin

import (
	"context"
	"errors"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the go-plugin API version of this contract. Bump it on any incompatible
// change to plugin/proto; a host and a plugin with different versions refuse each other at the handshake.
const ProtocolVersion = 1

// Name is the plugin's name in the go-plugin plugin set.
const Name = "vectorizer"

// MaxMessageSize bounds one gRPC message each way. A batch of 256 passages with parts at
// 7×5 queries of 1024 floats is about 40 MB, far above gRPC's 4 MB default.
const MaxMessageSize = 256 << 20

// Handshake is shared by host and plugin. The cookie only keeps the binary from being run by
// hand by mistake; it is not a security feature.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "XQG_VECTORIZER_PLUGIN",
	MagicCookieValue: "7d1c0a3e-xqg-vectorizer",
}

// Vectorizer is what a backend provides and what the host hands to callers.
// Every method is safe for concurrent use.
type Vectorizer interface {
	Info(ctx context.Context) (Info, error)
	// EmbedPassages returns one result per passage, in order; a passage that cannot be embedded
	// has its Err set (ErrInvalidInput for bad input) while the others succeed.
	EmbedPassages(ctx context.Context, passages []Passage, opts Options) ([]PassageResult, error)
	// EmbedQueries encodes query texts plainly (never generation); one result per text, in order.
	EmbedQueries(ctx context.Context, texts []string) ([]QueryResult, error)
	Health(ctx context.Context) error
}

// Sentinel errors, carried across the process boundary as gRPC status codes.
var (
	// ErrInvalidInput: the request itself is wrong (empty text, a batch too large); retrying will not help.
	ErrInvalidInput = errors.New("invalid input")
	// ErrUnavailable: the backend cannot serve now (not started, restarting, crashed mid-call);
	// retrying later may succeed.
	ErrUnavailable = errors.New("vectorizer unavailable")
)

// Retryable reports whether err is worth retrying after the backend comes back.
func Retryable(err error) bool { return errors.Is(err, ErrUnavailable) }

// ModelInfo identifies one model.
type ModelInfo struct {
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	MaxLength int    `json:"max_length,omitempty"`
	Pooling   string `json:"pooling,omitempty"`
}

// Info describes a configured backend.
type Info struct {
	Encoder   ModelInfo `json:"encoder"`
	Generator ModelInfo `json:"generator"`
	Dimension int       `json:"dimension"`
	// Generation is false when no generator is configured: passages are encoded plain.
	Generation         bool     `json:"generation"`
	Languages          []string `json:"languages"`
	QueriesPerLanguage int      `json:"queries_per_language"`
	MaxBatch           int      `json:"max_batch"`
	Alpha              float64  `json:"alpha"`
	FusionMode         string   `json:"fusion_mode"`
	Normalize          bool     `json:"normalize"`
	// Provider is the ONNX Runtime execution provider actually in use.
	Provider string            `json:"provider"`
	Versions map[string]string `json:"versions"`
	Backend  string            `json:"backend"`
}

// Passage is one passage to embed. Queries holds precomputed queries by language code: a passage
// that has any is fused with exactly those and nothing is generated for it.
type Passage struct {
	ID      string              `json:"id"`
	Title   string              `json:"title"`
	Text    string              `json:"text"`
	Queries map[string][]string `json:"generated_queries,omitempty"`
}

// Options modify EmbedPassages.
type Options struct {
	// WithParts also returns the plain passage vector, the queries and their vectors.
	WithParts bool
	// PlainOnly skips generation and fusion (given queries are ignored): Vector is the plain passage
	// vector, the same encoding of "title text" that WithParts returns as PassageVector on the fused
	// path. With WithParts too, PassageVector repeats it and Queries stay empty. Nothing is generated
	// or cached, so CacheHit is true. A backend built before this option ignores it; a caller that
	// must get the plain vector from any backend sets WithParts too and reads PassageVector.
	PlainOnly bool
}

// PassageResult is the outcome for one passage.
type PassageResult struct {
	ID     string
	Vector []float32
	// Parts, filled only with Options.WithParts (Queries and QueryVectors stay empty with PlainOnly).
	PassageVector []float32
	Queries       map[string][]string
	QueryVectors  map[string][][]float32
	Truncated     bool
	// CacheHit: no query was generated for this passage (cached or given).
	CacheHit       bool
	GenerationTime time.Duration
	Err            error
}

// QueryResult is the outcome for one query text.
type QueryResult struct {
	Vector    []float32
	Truncated bool
	Err       error
}
