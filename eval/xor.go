package eval

import (
	"sort"
	"strings"
	"sync"

	"github.com/xqg/xqg/eval/nltktok"
)

// DefaultMaxTokens are the cut-offs of R@2kt and R@5kt.
var DefaultMaxTokens = []int{2000, 5000}

// RunEntry is one line of the official XOR-Retrieve submission format:
// the question id, its language and the ranked passage texts.
type RunEntry struct {
	ID   string   `json:"id"`
	Lang string   `json:"lang"`
	Ctxs []string `json:"ctxs"`
}

// LangCount is hits and count for one language at one cut-off.
type LangCount struct {
	Count int `json:"count"`
	Hit   int `json:"hit"`
}

// Score is hits/count*100.
func (c LangCount) Score() float64 {
	if c.Count == 0 {
		return 0
	}
	return float64(c.Hit) / float64(c.Count) * 100
}

// XORResult is R@kt at one cut-off.
type XORResult struct {
	MaxTokens int                  `json:"max_tokens"`
	PerLang   map[string]LangCount `json:"per_lang"`
	// Langs lists the languages with count > 0 in first-seen run order,
	// the order the official script prints them.
	Langs []string `json:"langs"`
	// Macro is the mean of the per-language scores.
	Macro float64 `json:"macro"`
	// PerQuery holds 1/0 for every scored question in run order (for paired
	// significance tests); questions are keyed by PerQueryID.
	PerQuery   []float64 `json:"-"`
	PerQueryID []string  `json:"-"`
}

// XORScorer computes R@kt like eval_xor_retrieve.py. It caches passage
// tokenizations, since the same passage is retrieved for many questions.
type XORScorer struct {
	tok   *nltktok.WordTokenizer
	mu    sync.Mutex
	cache map[string][]string
}

// NewXORScorer returns a scorer using tok (nil: word_tokenize with an
// untrained Punkt model; see nltktok.WordTokenizer).
func NewXORScorer(tok *nltktok.WordTokenizer) *XORScorer {
	if tok == nil {
		tok = nltktok.NewWordTokenizer(nil)
	}
	return &XORScorer{tok: tok, cache: map[string][]string{}}
}

func (s *XORScorer) tokens(text string) []string {
	s.mu.Lock()
	t, ok := s.cache[text]
	s.mu.Unlock()
	if ok {
		return t
	}
	t = s.tok.Tokenize(text)
	s.mu.Lock()
	s.cache[text] = t
	s.mu.Unlock()
	return t
}

// SpanAnswers drops the answers "yes" and "no" (exact, case-sensitive, as
// the official script does); a question left with none is not scored.
func SpanAnswers(answers []string) []string {
	var out []string
	for _, a := range answers {
		if a != "yes" && a != "no" {
			out = append(out, a)
		}
	}
	return out
}

// Hit reports whether any answer is a substring of the first maxTokens
// tokens of ctxs, space-joined.
func (s *XORScorer) Hit(ctxs []string, answers []string, maxTokens int) bool {
	var toks []string
	for _, c := range ctxs {
		toks = append(toks, s.tokens(c)...)
		if len(toks) >= maxTokens {
			break
		}
	}
	if len(toks) > maxTokens {
		toks = toks[:maxTokens]
	}
	joined := strings.Join(toks, " ")
	for _, a := range answers {
		if strings.Contains(joined, a) {
			return true
		}
	}
	return false
}

// Score scores run against answers (question id -> answers) at each
// cut-off. As in the official script, run entries whose id has no answers
// are ignored, duplicates count twice, and a language only appears when at
// least one of its questions was scored. Tokenization runs on workers
// goroutines (<= 0: 1).
func (s *XORScorer) Score(run []RunEntry, answers map[string][]string, maxTokens []int, workers int) []XORResult {
	if len(maxTokens) == 0 {
		maxTokens = DefaultMaxTokens
	}
	if workers <= 0 {
		workers = 1
	}
	maxN := 0
	for _, n := range maxTokens {
		maxN = max(maxN, n)
	}
	// Warm the cache in parallel; each entry needs at most maxN tokens.
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				n := 0
				for _, c := range run[i].Ctxs {
					n += len(s.tokens(c))
					if n >= maxN {
						break
					}
				}
			}
		}()
	}
	for i, e := range run {
		if len(SpanAnswers(answers[e.ID])) > 0 {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()

	var out []XORResult
	for _, n := range maxTokens {
		res := XORResult{MaxTokens: n, PerLang: map[string]LangCount{}}
		var order []string
		seen := map[string]bool{}
		for _, e := range run {
			if !seen[e.Lang] {
				seen[e.Lang] = true
				order = append(order, e.Lang)
			}
			ans, ok := answers[e.ID]
			if !ok {
				continue
			}
			span := SpanAnswers(ans)
			if len(span) == 0 {
				continue
			}
			c := res.PerLang[e.Lang]
			c.Count++
			hit := 0.0
			if s.Hit(e.Ctxs, span, n) {
				c.Hit++
				hit = 1
			}
			res.PerLang[e.Lang] = c
			res.PerQuery = append(res.PerQuery, hit)
			res.PerQueryID = append(res.PerQueryID, e.ID)
		}
		sum := 0.0
		for _, l := range order {
			if res.PerLang[l].Count > 0 {
				res.Langs = append(res.Langs, l)
				sum += res.PerLang[l].Score()
			}
		}
		for l, c := range res.PerLang {
			if c.Count == 0 {
				delete(res.PerLang, l)
			}
		}
		if len(res.Langs) > 0 {
			res.Macro = sum / float64(len(res.Langs))
		}
		out = append(out, res)
	}
	return out
}

// SortedLangs returns the languages of r alphabetically (for stable
// tables when run order is not meaningful).
func (r XORResult) SortedLangs() []string {
	l := append([]string(nil), r.Langs...)
	sort.Strings(l)
	return l
}
