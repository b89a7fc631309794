package vectorizer

import (
	"fmt"

	"github.com/xqg/xqg/vectorizer/tokenizer"
)

type tokens struct {
	ids, typeIDs []int64
	truncated    bool
}

// textTokenizer is the encoder's view of the tokenizer: truncation and padding are the encoder's
// business (max_length, batch padding), not whatever tokenizer.json happened to be saved with.
type textTokenizer struct {
	t *tokenizer.Tokenizer
}

func loadTokenizer(path string, maxLen int) (textTokenizer, error) {
	t, err := tokenizer.LoadFile(path)
	if err != nil {
		return textTokenizer{}, fmt.Errorf("%s: %w", path, err)
	}
	return textTokenizer{t: t.WithPadding(nil).WithTruncation(maxLen)}, nil
}

func (tt textTokenizer) tokenize(text string) tokens {
	e := tt.t.Encode(text, true)
	out := tokens{ids: make([]int64, len(e.IDs)), typeIDs: make([]int64, len(e.IDs)), truncated: e.Truncated}
	for i, id := range e.IDs {
		out.ids[i] = int64(id)
	}
	for i, id := range e.TypeIDs {
		out.typeIDs[i] = int64(id)
	}
	return out
}
