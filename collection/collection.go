// Package collection builds the Weaviate collection xqg writes to from the configuration, creates it
// when missing and checks that an existing one is compatible.
//
// The collection has two named vectors over the same objects, so one index answers both "with xQG"
// and "without" and they can be compared on the same queries:
//   - xqg: the query-augmented passage vector. With a service URL configured its vectorizer is
//     text2vec-transformers pointed at `xqg serve` (whose passage path augments); without one it is
//     "none" and the client supplies the vector.
//   - passage: the plain passage embedding, supplied by the client or computed by the service's plain path.
package collection

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/xqg/xqg/config"
)

// Names of the named vectors and of the properties every passage has.
const (
	VectorXQG     = "xqg"
	VectorPassage = "passage"

	PropPassageID = "passage_id"
	PropTitle     = "title"
	PropText      = "text"

	// Transformers is the Weaviate module that calls `xqg serve`.
	Transformers = "text2vec-transformers"
	// PlainPath is appended to the service URL for the passage vector's passage path: the service answers
	// there with the plain (not augmented) encoding. The query path is the same for both vectors.
	PlainPath = "/plain"
)

// SourceProperties are the properties Weaviate concatenates into the text it sends to the service.
var SourceProperties = []string{PropTitle, PropText}

// Spec is everything that defines the collection.
type Spec struct {
	Name         string
	Distance     string
	Quantization string // "", pq, sq, rq or bq
	EF           int
	EFConstruct  int
	MaxConn      int
	Shards       int
	Replicas     int
	// ServiceURL is `xqg serve` as Weaviate reaches it; empty means bring-your-own vectors.
	ServiceURL string
}

// SpecFromConfig reads the collection definition from the weaviate section of the configuration.
func SpecFromConfig(w config.Weaviate) Spec {
	return Spec{
		Name:         w.Collection,
		Distance:     w.Distance,
		Quantization: w.Quantization,
		EF:           w.HNSW.EF,
		EFConstruct:  w.HNSW.EFConstruction,
		MaxConn:      w.HNSW.MaxConnections,
		Shards:       w.Sharding.DesiredCount,
		Replicas:     w.Replication.Factor,
		ServiceURL:   strings.TrimRight(w.ServiceURL, "/"),
	}
}

// BringYourOwn reports whether the client must supply both vectors.
func (s Spec) BringYourOwn() bool { return s.ServiceURL == "" }

// Class is the Weaviate class definition of s.
func (s Spec) Class() *models.Class {
	vectors := map[string]models.VectorConfig{
		VectorXQG:     {VectorIndexType: "hnsw", VectorIndexConfig: s.indexConfig(), Vectorizer: s.vectorizer(s.ServiceURL)},
		VectorPassage: {VectorIndexType: "hnsw", VectorIndexConfig: s.indexConfig(), Vectorizer: s.vectorizer(s.plainURL())},
	}
	return &models.Class{
		Class:        s.Name,
		Description:  "xqg passages with query-augmented (xqg) and plain (passage) vectors",
		VectorConfig: vectors,
		Properties: []*models.Property{
			{Name: PropPassageID, DataType: []string{"text"}, Tokenization: "field",
				IndexFilterable: ptr(true), IndexSearchable: ptr(false), Description: "the corpus's passage id"},
			{Name: PropTitle, DataType: []string{"text"}, Tokenization: "word", IndexFilterable: ptr(true), IndexSearchable: ptr(true)},
			{Name: PropText, DataType: []string{"text"}, Tokenization: "word", IndexFilterable: ptr(true), IndexSearchable: ptr(true)},
		},
		ShardingConfig:    map[string]any{"desiredCount": s.Shards},
		ReplicationConfig: &models.ReplicationConfig{Factor: int64(s.Replicas)},
	}
}

func (s Spec) plainURL() string {
	if s.ServiceURL == "" {
		return ""
	}
	return s.ServiceURL + PlainPath
}

func (s Spec) vectorizer(passageURL string) map[string]any {
	if passageURL == "" {
		return map[string]any{"none": map[string]any{}}
	}
	return map[string]any{Transformers: map[string]any{
		"vectorizeClassName":  false,
		"properties":          SourceProperties,
		"passageInferenceUrl": passageURL,
		"queryInferenceUrl":   s.ServiceURL,
	}}
}

func (s Spec) indexConfig() map[string]any {
	c := map[string]any{
		"distance":       s.Distance,
		"ef":             s.EF,
		"efConstruction": s.EFConstruct,
		"maxConnections": s.MaxConn,
	}
	if s.Quantization != "" {
		c[s.Quantization] = map[string]any{"enabled": true}
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// Connect returns a client for the configured node. With grpc the client's batcher imports over gRPC
// (the fast path); without, batches go over REST. It waits up to the configured timeout for Weaviate.
func Connect(w config.Weaviate, useGRPC bool) (*weaviate.Client, error) {
	u, err := url.Parse(w.URL)
	if err != nil {
		return nil, fmt.Errorf("weaviate.url %q: %w", w.URL, err)
	}
	c := weaviate.Config{Host: u.Host, Scheme: u.Scheme, Timeout: w.Timeout, StartupTimeout: w.Timeout}
	if w.APIKey != "" {
		c.AuthConfig = auth.ApiKey{Value: w.APIKey}
	}
	if useGRPC && w.GRPCAddress != "" {
		c.GrpcConfig = &grpc.Config{Host: w.GRPCAddress, Secured: u.Scheme == "https"}
	}
	client, err := weaviate.NewClient(c)
	if err != nil {
		return nil, fmt.Errorf("connect to weaviate at %s: %w", w.URL, err)
	}
	return client, nil
}

// IncompatibleError lists every way an existing collection differs from the configured one.
type IncompatibleError struct {
	Name        string
	Differences []string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("collection %s exists but differs from the configuration (delete it or change the configuration):\n  %s",
		e.Name, strings.Join(e.Differences, "\n  "))
}

// Ensure creates the collection when it is missing, else checks the existing one against spec. It
// reports whether it created the collection; an incompatible collection is an *IncompatibleError.
func Ensure(ctx context.Context, client *weaviate.Client, spec Spec) (created bool, err error) {
	exists, err := client.Schema().ClassExistenceChecker().WithClassName(spec.Name).Do(ctx)
	if err != nil {
		return false, fmt.Errorf("check collection %s: %w", spec.Name, err)
	}
	if !exists {
		if err := client.Schema().ClassCreator().WithClass(spec.Class()).Do(ctx); err != nil {
			// Another worker (an ingest shard) may have created it meanwhile: check it instead.
			if again, cerr := client.Schema().ClassExistenceChecker().WithClassName(spec.Name).Do(ctx); cerr != nil || !again {
				return false, fmt.Errorf("create collection %s: %w", spec.Name, err)
			}
		} else {
			return true, nil
		}
	}
	got, err := client.Schema().ClassGetter().WithClassName(spec.Name).Do(ctx)
	if err != nil {
		return false, fmt.Errorf("read collection %s: %w", spec.Name, err)
	}
	if diffs := Diff(spec.Class(), got); len(diffs) > 0 {
		return false, &IncompatibleError{Name: spec.Name, Differences: diffs}
	}
	return false, nil
}

// IsIncompatible reports whether err says an existing collection differs from the configuration.
func IsIncompatible(err error) bool {
	var ie *IncompatibleError
	return errors.As(err, &ie)
}
