// Package search queries the xqg collection through Weaviate: nearText against one named vector
// (Weaviate calls the service's query path, which only encodes), nearVector, and hybrid.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/xqg/xqg/collection"
)

// Modes of a query.
const (
	NearText   = "near_text"
	NearVector = "near_vector"
	Hybrid     = "hybrid"
)

// Request is one query.
type Request struct {
	Collection string
	// Mode is NearText (default), NearVector (Vector) or Hybrid (Text, and Vector if given).
	Mode   string
	Text   string
	Vector []float32
	// Target is the named vector searched: collection.VectorXQG (default) or collection.VectorPassage.
	Target string
	K      int
	// Alpha weighs hybrid: 0 = keyword only, 1 = vector only; 0 means Weaviate's default.
	Alpha float32
	// Where keeps only objects whose text property equals the value, for every entry.
	Where map[string]string
	// WithVectors returns both stored vectors of every hit.
	WithVectors bool
}

// Hit is one ranked result.
type Hit struct {
	Rank      int                  `json:"rank"`
	ID        string               `json:"id"`
	PassageID string               `json:"passage_id"`
	Title     string               `json:"title"`
	Text      string               `json:"text"`
	Distance  *float64             `json:"distance,omitempty"`
	Score     *float64             `json:"score,omitempty"`
	Vectors   map[string][]float32 `json:"vectors,omitempty"`
}

// Query runs req and returns the hits best first.
func Query(ctx context.Context, client *weaviate.Client, req Request) ([]Hit, error) {
	if req.Collection == "" {
		return nil, errors.New("query: no collection")
	}
	if req.Target == "" {
		req.Target = collection.VectorXQG
	}
	if req.Target != collection.VectorXQG && req.Target != collection.VectorPassage {
		return nil, fmt.Errorf("--target %q: want %s or %s", req.Target, collection.VectorXQG, collection.VectorPassage)
	}
	if req.K <= 0 {
		req.K = 10
	}
	if req.Mode == "" {
		req.Mode = NearText
		if req.Text == "" && req.Vector != nil {
			req.Mode = NearVector
		}
	}
	switch req.Mode {
	case NearText, Hybrid:
		if strings.TrimSpace(req.Text) == "" {
			return nil, errors.New("query: empty text")
		}
	case NearVector:
		if len(req.Vector) == 0 {
			return nil, errors.New("query: nearVector without a vector")
		}
	default:
		return nil, fmt.Errorf("query: mode %q: want %s, %s or %s", req.Mode, NearText, NearVector, Hybrid)
	}
	if client == nil {
		return nil, errors.New("query: no Weaviate client")
	}
	add := []graphql.Field{{Name: "id"}, {Name: "distance"}}
	if req.Mode == Hybrid {
		add = []graphql.Field{{Name: "id"}, {Name: "score"}}
	}
	if req.WithVectors {
		add = append(add, graphql.Field{Name: "vectors", Fields: []graphql.Field{{Name: collection.VectorXQG}, {Name: collection.VectorPassage}}})
	}
	get := client.GraphQL().Get().WithClassName(req.Collection).WithLimit(req.K).WithFields(
		graphql.Field{Name: collection.PropPassageID}, graphql.Field{Name: collection.PropTitle},
		graphql.Field{Name: collection.PropText}, graphql.Field{Name: "_additional", Fields: add})

	switch req.Mode {
	case NearText:
		get = get.WithNearText(client.GraphQL().NearTextArgBuilder().WithConcepts([]string{req.Text}).WithTargetVectors(req.Target))
	case NearVector:
		get = get.WithNearVector(client.GraphQL().NearVectorArgBuilder().WithVector(req.Vector).WithTargetVectors(req.Target))
	case Hybrid:
		h := client.GraphQL().HybridArgumentBuilder().WithQuery(req.Text).WithTargetVectors(req.Target)
		if req.Vector != nil {
			h = h.WithVector(req.Vector)
		}
		if req.Alpha > 0 {
			h = h.WithAlpha(req.Alpha)
		}
		get = get.WithHybrid(h)
	}
	if w := where(req.Where); w != nil {
		get = get.WithWhere(w)
	}
	resp, err := get.Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", req.Collection, err)
	}
	return parseHits(resp, req.Collection)
}

func where(m map[string]string) *filters.WhereBuilder {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ops []*filters.WhereBuilder
	for _, k := range keys {
		ops = append(ops, filters.Where().WithPath([]string{k}).WithOperator(filters.Equal).WithValueText(m[k]))
	}
	if len(ops) == 1 {
		return ops[0]
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops)
}

func graphQLErrors(resp *models.GraphQLResponse) error {
	if len(resp.Errors) == 0 {
		return nil
	}
	var msgs []string
	for _, e := range resp.Errors {
		if e != nil {
			msgs = append(msgs, e.Message)
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

func parseHits(resp *models.GraphQLResponse, class string) ([]Hit, error) {
	if err := graphQLErrors(resp); err != nil {
		return nil, fmt.Errorf("query %s: %w", class, err)
	}
	// Re-decode the generic GraphQL JSON into typed rows.
	b, err := json.Marshal(resp.Data["Get"])
	if err != nil {
		return nil, err
	}
	var rows map[string][]struct {
		PassageID  string `json:"passage_id"`
		Title      string `json:"title"`
		Text       string `json:"text"`
		Additional struct {
			ID       string               `json:"id"`
			Distance *float64             `json:"distance"`
			Score    *json.Number         `json:"score"`
			Vectors  map[string][]float32 `json:"vectors"`
		} `json:"_additional"`
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("query %s: unexpected response: %w", class, err)
	}
	var hits []Hit
	for i, r := range rows[class] {
		h := Hit{Rank: i + 1, ID: r.Additional.ID, PassageID: r.PassageID, Title: r.Title, Text: r.Text,
			Distance: r.Additional.Distance, Vectors: r.Additional.Vectors}
		if r.Additional.Score != nil {
			// Weaviate sends hybrid scores as strings.
			if f, err := r.Additional.Score.Float64(); err == nil {
				h.Score = &f
			}
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// Snippet shortens text to about n runes at a word boundary.
func Snippet(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)[:n]
	s := string(r)
	if i := strings.LastIndexByte(s, ' '); i > n/2 {
		s = s[:i]
	}
	return s + "…"
}

// VectorInfo describes one named vector of a collection.
type VectorInfo struct {
	Name         string `json:"name"`
	Vectorizer   string `json:"vectorizer"`
	Distance     string `json:"distance"`
	Quantization string `json:"quantization,omitempty"`
}

// Info describes one collection.
type Info struct {
	Name    string       `json:"name"`
	Vectors []VectorInfo `json:"vectors"`
	Count   int64        `json:"count"`
	Shards  int          `json:"shards"`
	Factor  int64        `json:"replication_factor"`
}

// Collections lists every collection with its named vectors and object count.
func Collections(ctx context.Context, client *weaviate.Client) ([]Info, error) {
	dump, err := client.Schema().Getter().Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	var out []Info
	for _, c := range dump.Classes {
		info := Info{Name: c.Class}
		if c.ReplicationConfig != nil {
			info.Factor = c.ReplicationConfig.Factor
		}
		if sc, ok := c.ShardingConfig.(map[string]any); ok {
			if n, ok := sc["desiredCount"].(float64); ok {
				info.Shards = int(n)
			}
		}
		names := make([]string, 0, len(c.VectorConfig))
		for n := range c.VectorConfig {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			vc := c.VectorConfig[n]
			vi := VectorInfo{Name: n}
			if m, ok := vc.Vectorizer.(map[string]any); ok {
				for k := range m {
					vi.Vectorizer = k
				}
			}
			if m, ok := vc.VectorIndexConfig.(map[string]any); ok {
				vi.Distance, _ = m["distance"].(string)
				for _, q := range []string{"pq", "sq", "rq", "bq"} {
					if qm, ok := m[q].(map[string]any); ok && qm["enabled"] == true {
						vi.Quantization = q
					}
				}
			}
			info.Vectors = append(info.Vectors, vi)
		}
		if len(c.VectorConfig) == 0 {
			info.Vectors = append(info.Vectors, VectorInfo{Name: "(default)", Vectorizer: c.Vectorizer})
		}
		if info.Count, err = Count(ctx, client, c.Class); err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Count is the number of objects in a collection.
func Count(ctx context.Context, client *weaviate.Client, class string) (int64, error) {
	resp, err := client.GraphQL().Aggregate().WithClassName(class).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", class, err)
	}
	if err := graphQLErrors(resp); err != nil {
		return 0, fmt.Errorf("count %s: %w", class, err)
	}
	b, _ := json.Marshal(resp.Data["Aggregate"])
	var rows map[string][]struct {
		Meta struct {
			Count int64 `json:"count"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(b, &rows); err != nil || len(rows[class]) != 1 {
		return 0, fmt.Errorf("count %s: unexpected response %s", class, b)
	}
	return rows[class][0].Meta.Count, nil
}
