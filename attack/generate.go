package attack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"

	"github.com/xqg/xqg/eval"
)

// Attacked is one perturbed query. It keeps the original's answers and
// relevance, so it scores like the original.
type Attacked struct {
	eval.Query
	OrigID   string `json:"orig_id"`
	Type     Type   `json:"attack"`
	Original string `json:"original"`
	Seed     uint64 `json:"seed"`
}

// RNG returns the generator for one (seed, query, type): each query's
// perturbation depends only on these, not on the order or subset of
// queries processed.
func RNG(seed uint64, queryID string, typ Type) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(queryID))
	h.Write([]byte{0})
	h.Write([]byte(typ))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Generate perturbs every query with every type. Queries a type cannot
// change are left out and counted in skipped[type].
func Generate(ctx context.Context, queries []eval.Query, types []Type, seed uint64, opt Options) ([]Attacked, map[Type]int, error) {
	var out []Attacked
	skipped := map[Type]int{}
	for _, typ := range sortedTypes(types) {
		for _, q := range queries {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			text, err := Perturb(ctx, q.Text, q.Lang, typ, RNG(seed, q.ID, typ), opt)
			if errors.Is(err, ErrNotApplicable) {
				skipped[typ]++
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("attack %s on query %s: %w", typ, q.ID, err)
			}
			a := Attacked{Query: q, OrigID: q.ID, Type: typ, Original: q.Text, Seed: seed}
			a.ID = q.ID + "#" + string(typ)
			a.Text = text
			out = append(out, a)
		}
	}
	return out, skipped, nil
}

// WriteJSONL writes attacked queries one JSON object per line (the XOR
// fields id, question, answers, lang plus orig_id, attack, original, seed).
func WriteJSONL(w io.Writer, as []Attacked) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, a := range as {
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return bw.Flush()
}
