package collection

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/weaviate/weaviate/entities/models"
)

var quantizers = []string{"pq", "sq", "rq", "bq"}

// Diff lists every difference between the wanted class and the one Weaviate has, one readable line
// each, in a stable order. Extra properties in got are fine (ingest adds a passage's extra fields).
func Diff(want, got *models.Class) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }

	if len(got.VectorConfig) == 0 {
		add("has no named vectors (a legacy single-vector collection); want %s and %s", VectorXQG, VectorPassage)
	}
	for _, name := range sortedKeys(want.VectorConfig) {
		w := want.VectorConfig[name]
		g, ok := got.VectorConfig[name]
		if !ok {
			add("named vector %s: missing", name)
			continue
		}
		if g.VectorIndexType != w.VectorIndexType {
			add("named vector %s: index type %q, want %q", name, g.VectorIndexType, w.VectorIndexType)
		}
		diffIndex(name, asMap(w.VectorIndexConfig), asMap(g.VectorIndexConfig), add)
		diffVectorizer(name, asMap(w.Vectorizer), asMap(g.Vectorizer), add)
	}
	for _, name := range sortedKeys(got.VectorConfig) {
		if _, ok := want.VectorConfig[name]; !ok {
			add("named vector %s: not in the configuration", name)
		}
	}

	for _, wp := range want.Properties {
		i := slices.IndexFunc(got.Properties, func(p *models.Property) bool { return p.Name == wp.Name })
		if i < 0 {
			add("property %s: missing", wp.Name)
			continue
		}
		if gp := got.Properties[i]; !slices.Equal(gp.DataType, wp.DataType) {
			add("property %s: data type %v, want %v", wp.Name, gp.DataType, wp.DataType)
		}
	}

	if w, g := num(asMap(want.ShardingConfig)["desiredCount"]), num(asMap(got.ShardingConfig)["desiredCount"]); w != g {
		add("sharding.desiredCount %v, want %v", g, w)
	}
	var wr, gr int64
	if want.ReplicationConfig != nil {
		wr = want.ReplicationConfig.Factor
	}
	if got.ReplicationConfig != nil {
		gr = got.ReplicationConfig.Factor
	}
	if wr != gr {
		add("replication.factor %d, want %d", gr, wr)
	}
	return d
}

func diffIndex(name string, w, g map[string]any, add func(string, ...any)) {
	if w, g := fmt.Sprint(w["distance"]), fmt.Sprint(g["distance"]); w != g {
		add("named vector %s: distance %s, want %s", name, g, w)
	}
	for _, k := range []string{"ef", "efConstruction", "maxConnections"} {
		if wv, gv := num(w[k]), num(g[k]); wv != gv {
			add("named vector %s: hnsw %s %v, want %v", name, k, gv, wv)
		}
	}
	for _, q := range quantizers {
		we, ge := enabled(w[q]), enabled(g[q])
		if we != ge {
			add("named vector %s: quantization %s enabled=%v, want %v", name, q, ge, we)
		}
	}
}

func diffVectorizer(name string, w, g map[string]any, add func(string, ...any)) {
	wm, gm := onlyKey(w), onlyKey(g)
	if wm != gm {
		add("named vector %s: vectorizer %s, want %s", name, orNone(gm), orNone(wm))
		return
	}
	wc, gc := asMap(w[wm]), asMap(g[gm])
	for _, k := range []string{"passageInferenceUrl", "queryInferenceUrl", "vectorizeClassName", "properties"} {
		wv, ok := wc[k]
		if !ok {
			continue
		}
		if !sameValue(wv, gc[k]) {
			add("named vector %s: %s.%s %v, want %v", name, wm, k, gc[k], wv)
		}
	}
}

// sameValue compares a value we built with its JSON round trip from Weaviate ([]string vs []any).
func sameValue(w, g any) bool {
	if ws, ok := w.([]string); ok {
		ga, ok := g.([]any)
		if !ok || len(ga) != len(ws) {
			return false
		}
		for i := range ws {
			if fmt.Sprint(ga[i]) != ws[i] {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(fmt.Sprint(w), fmt.Sprint(g))
}

func asMap(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case map[string]map[string]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return map[string]any{}
}

func num(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	case float32:
		return float64(n)
	}
	return 0
}

func enabled(v any) bool {
	b, _ := asMap(v)["enabled"].(bool)
	return b
}

func onlyKey(m map[string]any) string {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

func orNone(s string) string {
	if s == "" {
		return "(none set)"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
