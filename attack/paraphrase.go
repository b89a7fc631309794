package attack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/xqg/xqg/plugin"
)

// GeneratorParaphraser paraphrases a query with xQG's own query generator, through the plugin
// contract as it stands: the query is sent as a passage with parts (plugin.Options.WithParts), and
// the generator's questions about it in the query's own language are its paraphrases. So the
// paraphrases come from the very model whose queries augment the passages, and need no other model.
// The plugin must be configured with a generator whose languages include the query's.
type GeneratorParaphraser struct {
	V plugin.Vectorizer
}

// Paraphrase returns the first generated question in lang that differs from text (ignoring case and
// spacing), or text itself when every one equals it (Perturb then reports ErrNotApplicable).
func (g GeneratorParaphraser) Paraphrase(ctx context.Context, text, lang string) (string, error) {
	res, err := g.V.EmbedPassages(ctx, []plugin.Passage{{ID: "paraphrase", Text: text}}, plugin.Options{WithParts: true})
	if err != nil {
		return "", err
	}
	if len(res) != 1 {
		return "", fmt.Errorf("generator returned %d results for 1 query", len(res))
	}
	if res[0].Err != nil {
		return "", res[0].Err
	}
	if len(res[0].Queries) == 0 {
		return "", fmt.Errorf("the plugin generated no queries: configure a generator (generator.model_dir)")
	}
	qs, ok := res[0].Queries[lang]
	if !ok {
		var have []string
		for l := range res[0].Queries {
			have = append(have, l)
		}
		slices.Sort(have)
		return "", fmt.Errorf("the generator makes no %s queries (generator.languages: %s)", lang, strings.Join(have, ","))
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	for _, q := range qs {
		if strings.TrimSpace(q) != "" && norm(q) != norm(text) {
			return strings.TrimSpace(q), nil
		}
	}
	return text, nil
}
