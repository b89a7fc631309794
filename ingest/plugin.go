package ingest

import (
	"context"
	"fmt"

	"github.com/xqg/xqg/plugin"
)

// PluginEmbedder computes both vectors with the vectorizer plugin (plugin/host's supervised process):
// the fused xQG vector and, as one of its parts, the plain passage vector, in one call per batch.
type PluginEmbedder struct {
	V plugin.Vectorizer
}

// Embed sends each passage as the one text Weaviate would send the service (WeaviateText), so the
// fast path and --via-weaviate store the same vectors; pre-generated queries travel along.
func (e PluginEmbedder) Embed(ctx context.Context, ps []Passage) ([]Vectors, error) {
	in := make([]plugin.Passage, len(ps))
	for i, p := range ps {
		in[i] = plugin.Passage{ID: p.ID, Text: p.WeaviateText(), Queries: p.Queries}
	}
	res, err := e.V.EmbedPassages(ctx, in, plugin.Options{WithParts: true})
	if err != nil {
		return nil, err
	}
	if len(res) != len(ps) {
		return nil, fmt.Errorf("plugin returned %d results for %d passages", len(res), len(ps))
	}
	out := make([]Vectors, len(ps))
	for i, r := range res {
		switch {
		case r.Err != nil:
			out[i].Err = r.Err
		case len(r.Vector) == 0 || len(r.PassageVector) != len(r.Vector):
			out[i].Err = fmt.Errorf("plugin returned a %d-d fused and a %d-d plain vector", len(r.Vector), len(r.PassageVector))
		default:
			out[i] = Vectors{XQG: r.Vector, Passage: r.PassageVector, Generation: r.GenerationTime}
		}
	}
	return out, nil
}
