package collection

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/weaviate/weaviate/entities/models"

	"github.com/xqg/xqg/config"
)

// roundTrip gives the class the shape Weaviate returns it in: JSON numbers as float64, lists as []any.
func roundTrip(t *testing.T, c *models.Class) *models.Class {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out models.Class
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func baseSpec() Spec {
	d := config.Defaults()
	d.Weaviate.ServiceURL = "http://127.0.0.1:8090/"
	return SpecFromConfig(d.Weaviate)
}

func TestClassFromConfig(t *testing.T) {
	s := baseSpec()
	c := s.Class()
	if s.ServiceURL != "http://127.0.0.1:8090" {
		t.Fatalf("service URL not trimmed: %q", s.ServiceURL)
	}
	x := asMap(c.VectorConfig[VectorXQG].Vectorizer)[Transformers].(map[string]any)
	p := asMap(c.VectorConfig[VectorPassage].Vectorizer)[Transformers].(map[string]any)
	if x["passageInferenceUrl"] != "http://127.0.0.1:8090" || p["passageInferenceUrl"] != "http://127.0.0.1:8090"+PlainPath {
		t.Errorf("passage URLs: xqg %v passage %v", x["passageInferenceUrl"], p["passageInferenceUrl"])
	}
	if x["queryInferenceUrl"] != p["queryInferenceUrl"] || x["vectorizeClassName"] != false {
		t.Errorf("query URL / vectorizeClassName: %v %v %v", x["queryInferenceUrl"], p["queryInferenceUrl"], x["vectorizeClassName"])
	}
	idx := asMap(c.VectorConfig[VectorXQG].VectorIndexConfig)
	if idx["efConstruction"] != 128 || idx["maxConnections"] != 32 || idx["distance"] != "cosine" || idx["ef"] != -1 {
		t.Errorf("index config %v", idx)
	}

	byo := s
	byo.ServiceURL = ""
	if _, ok := asMap(byo.Class().VectorConfig[VectorXQG].Vectorizer)["none"]; !ok || !byo.BringYourOwn() {
		t.Errorf("bring-your-own spec has vectorizer %v", byo.Class().VectorConfig[VectorXQG].Vectorizer)
	}
	q := s
	q.Quantization = "rq"
	if !enabled(asMap(q.Class().VectorConfig[VectorPassage].VectorIndexConfig)["rq"]) {
		t.Error("rq quantization not enabled")
	}
}

func TestDiff(t *testing.T) {
	base := baseSpec()
	tests := []struct {
		name   string
		change func(*Spec)
		edit   func(*models.Class)
		want   []string
	}{
		{name: "identical"},
		{name: "distance and ef", change: func(s *Spec) { s.Distance = "dot"; s.EFConstruct = 64 }, want: []string{
			"named vector passage: distance cosine, want dot", "named vector passage: hnsw efConstruction 128, want 64",
			"named vector xqg: distance cosine, want dot", "named vector xqg: hnsw efConstruction 128, want 64"}},
		{name: "quantization", change: func(s *Spec) { s.Quantization = "pq" }, want: []string{
			"named vector passage: quantization pq enabled=false, want true", "named vector xqg: quantization pq enabled=false, want true"}},
		{name: "bring your own vs service", change: func(s *Spec) { s.ServiceURL = "" }, want: []string{
			"named vector passage: vectorizer text2vec-transformers, want none", "named vector xqg: vectorizer text2vec-transformers, want none"}},
		{name: "service moved", change: func(s *Spec) { s.ServiceURL = "http://svc:9000" }, want: []string{
			"named vector passage: text2vec-transformers.passageInferenceUrl http://127.0.0.1:8090/plain, want http://svc:9000/plain",
			"named vector passage: text2vec-transformers.queryInferenceUrl http://127.0.0.1:8090, want http://svc:9000",
			"named vector xqg: text2vec-transformers.passageInferenceUrl http://127.0.0.1:8090, want http://svc:9000",
			"named vector xqg: text2vec-transformers.queryInferenceUrl http://127.0.0.1:8090, want http://svc:9000"}},
		{name: "cluster layout", change: func(s *Spec) { s.Shards = 3; s.Replicas = 2 }, want: []string{
			"sharding.desiredCount 1, want 3", "replication.factor 1, want 2"}},
		{name: "missing vector and property", edit: func(c *models.Class) {
			delete(c.VectorConfig, VectorPassage)
			c.Properties = c.Properties[1:]
			c.VectorConfig["other"] = models.VectorConfig{VectorIndexType: "flat"}
		}, want: []string{"named vector passage: missing", "named vector other: not in the configuration", "property passage_id: missing"}},
		{name: "extra property is fine", edit: func(c *models.Class) {
			c.Properties = append(c.Properties, &models.Property{Name: "url", DataType: []string{"text"}})
		}},
		{name: "legacy class", edit: func(c *models.Class) { c.VectorConfig = nil }, want: []string{
			"has no named vectors (a legacy single-vector collection); want xqg and passage",
			"named vector passage: missing", "named vector xqg: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base
			if tt.change != nil {
				tt.change(&want)
			}
			got := roundTrip(t, base.Class())
			if tt.edit != nil {
				tt.edit(got)
			}
			diffs := Diff(want.Class(), got)
			if strings.Join(diffs, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(diffs, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
