package augment

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/xqg/xqg/config"
)

// DefaultTemplate is the release's prompt.
const DefaultTemplate = "Generate a {language} question for this passage: {title} {passage}"

// BuildPrompt fills {language} (the language's English name, as the model was trained with),
// {title} and {passage}. An empty title drops the space after it so the model never sees a double
// space it was not trained on.
func BuildPrompt(template, lang, title, passage string) (string, error) {
	name, ok := config.Languages[lang]
	if !ok {
		return "", fmt.Errorf("generator.languages: unknown language %q", lang)
	}
	if template == "" {
		template = DefaultTemplate
	}
	if title == "" {
		template = strings.Replace(template, "{title} ", "", 1)
	}
	r := strings.NewReplacer("{language}", name, "{Language}", name, "{title}", title, "{passage}", passage)
	return r.Replace(template), nil
}

// rowRNG is the random source of one generated query: it depends on the seed, the passage, the
// language and the query's index only, so the same query comes out whatever else shares its batch.
func rowRNG(seed int64, title, text, lang string, i int) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, s := range []string{title, text, lang} {
		binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
}
