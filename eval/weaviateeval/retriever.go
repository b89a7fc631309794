// Package weaviateeval runs eval's evaluations against a real Weaviate collection: a Retriever
// over both named vectors (xqg and passage) of one collection, dataset loading and corpus ingest
// through the ingest package, and the files an evaluation writes (JSON, markdown, submission-format
// runs, charts).
package weaviateeval

import (
	"context"
	"fmt"
	"sync"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"

	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/search"
)

// QueryEncoder encodes query texts in the client; the plugin host (plugin.Vectorizer) is one.
type QueryEncoder interface {
	EmbedQueries(ctx context.Context, texts []string) ([]plugin.QueryResult, error)
}

// Retriever searches one collection through Weaviate. Without an Encoder it sends nearText, so
// Weaviate encodes the query through the collection's service (xqg serve's query path), exactly
// as an application would; with one, it encodes in the client and sends nearVector, which is the
// way to evaluate a bring-your-own-vectors collection.
type Retriever struct {
	Client     *weaviate.Client
	Collection string
	Encoder    QueryEncoder

	mu      sync.Mutex
	vectors map[string][]float32 // query text -> vector, so both targets share one encoding
}

var _ eval.Retriever = (*Retriever)(nil)

// Search returns the k nearest passages to query on the named vector target, best first. Hit.ID is
// the corpus's passage id (the passage_id property), which eval's relevance labels refer to.
func (r *Retriever) Search(ctx context.Context, target, query string, k int) ([]eval.Hit, error) {
	req := search.Request{Collection: r.Collection, Target: target, K: k, Text: query, Mode: search.NearText}
	if r.Encoder != nil {
		v, err := r.vector(ctx, query)
		if err != nil {
			return nil, err
		}
		req.Mode, req.Text, req.Vector = search.NearVector, "", v
	}
	hits, err := search.Query(ctx, r.Client, req)
	if err != nil {
		return nil, err
	}
	out := make([]eval.Hit, len(hits))
	for i, h := range hits {
		out[i] = eval.Hit{ID: h.PassageID, Title: h.Title, Text: h.Text}
		if h.Distance != nil {
			out[i].Distance = *h.Distance
		}
	}
	return out, nil
}

func (r *Retriever) vector(ctx context.Context, query string) ([]float32, error) {
	r.mu.Lock()
	v, ok := r.vectors[query]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	res, err := r.Encoder.EmbedQueries(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("encode query: %w", err)
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("encode query: %d results for 1 text", len(res))
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("encode query: %w", res[0].Err)
	}
	r.mu.Lock()
	if r.vectors == nil {
		r.vectors = map[string][]float32{}
	}
	r.vectors[query] = res[0].Vector
	r.mu.Unlock()
	return res[0].Vector, nil
}
