package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func TestTopK(t *testing.T) {
	logits := []float32{0.1, 3, -1, 3, 2, 0.5}
	tests := []struct {
		k    int
		want []int
	}{
		{1, []int{1}},
		{3, []int{1, 3, 4}},
		{0, []int{1, 3, 4, 5, 0, 2}},
		{10, []int{1, 3, 4, 5, 0, 2}},
	}
	for _, tt := range tests {
		if got := topK(logits, tt.k); !slices.Equal(got, tt.want) {
			t.Errorf("topK(k=%d) = %v, want %v", tt.k, got, tt.want)
		}
	}
}

func TestSampleTopKDistribution(t *testing.T) {
	// Two tokens within the top 2 with logits differing by ln 3: probabilities 3/4 and 1/4.
	logits := []float32{float32(math.Log(3)), 0, -50}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 3)
	const n = 20000
	for range n {
		counts[sampleTopK(logits, 2, 1, rng)]++
	}
	if counts[2] != 0 {
		t.Fatalf("token outside the top k was drawn %d times", counts[2])
	}
	if p := float64(counts[0]) / n; math.Abs(p-0.75) > 0.02 {
		t.Fatalf("p(token 0) = %.3f, want 0.75", p)
	}
	// A low temperature makes it nearly greedy.
	counts = make([]int, 3)
	for range 1000 {
		counts[sampleTopK(logits, 2, 0.05, rng)]++
	}
	if counts[0] < 995 {
		t.Fatalf("temperature 0.05 drew the top token only %d/1000 times", counts[0])
	}
}

func TestRowRNGDependsOnEveryPart(t *testing.T) {
	draw := func(seed int64, title, text, lang string, i int) uint64 {
		return rowRNG(seed, title, text, lang, i).Uint64()
	}
	base := draw(1, "t", "p", "ar", 0)
	if draw(1, "t", "p", "ar", 0) != base {
		t.Fatal("same inputs, different stream")
	}
	for name, v := range map[string]uint64{
		"seed": draw(2, "t", "p", "ar", 0), "title": draw(1, "u", "p", "ar", 0),
		"text": draw(1, "t", "q", "ar", 0), "lang": draw(1, "t", "p", "fi", 0),
		"index": draw(1, "t", "p", "ar", 1), "boundary": draw(1, "tp", "", "ar", 0),
	} {
		if v == base {
			t.Errorf("changing %s did not change the stream", name)
		}
	}
}

func TestBuildPrompt(t *testing.T) {
	tests := []struct{ tmpl, lang, title, passage, want string }{
		{"", "fi", "Helsinki", "is a city.", "Generate a Finnish question for this passage: Helsinki is a city."},
		{"", "ja", "", "text", "Generate a Japanese question for this passage: text"},
		{"{passage} → {language}", "te", "x", "p", "p → Telugu"},
	}
	for _, tt := range tests {
		got, err := BuildPrompt(tt.tmpl, tt.lang, tt.title, tt.passage)
		if err != nil || got != tt.want {
			t.Errorf("BuildPrompt(%q,%q,%q,%q) = %q, %v; want %q", tt.tmpl, tt.lang, tt.title, tt.passage, got, err, tt.want)
		}
	}
	if _, err := BuildPrompt("", "xx", "", "p"); err == nil {
		t.Error("unknown language accepted")
	}
}

// topKReference is the one-logit-at-a-time scan topK replaced; topK must pick the same indices in
// the same order, ties and NaNs included, or seeded generations would change.
func topKReference(logits []float32, k int) []int {
	idx := make([]int, 0, k)
	for i, x := range logits {
		if len(idx) == k && x <= logits[idx[k-1]] {
			continue
		}
		pos := sort.Search(len(idx), func(p int) bool { return logits[idx[p]] < x })
		if len(idx) < k {
			idx = append(idx, 0)
		}
		copy(idx[pos+1:], idx[pos:len(idx)-1])
		idx[pos] = i
	}
	return idx
}

func TestTopKMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name   string
		n      int
		levels int // >0: logits drawn from few values, so ties are everywhere
		nan    bool
	}{
		{"continuous", 1000, 0, false},
		{"ties", 1000, 5, false},
		{"heavy ties", 203, 2, false},
		{"short tail", 13, 3, false},
		{"nan", 500, 0, true},
		{"ascending", 300, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for trial := range 50 {
				logits := make([]float32, tt.n)
				for i := range logits {
					switch {
					case tt.levels > 0:
						logits[i] = float32(rng.IntN(tt.levels))
					case tt.levels < 0:
						logits[i] = float32(i) // every logit beats the threshold
					default:
						logits[i] = float32(rng.NormFloat64())
					}
				}
				if tt.nan {
					// Past the first k, so the buffer is full; the reference panicked on it.
					logits[20+rng.IntN(tt.n-20)] = float32(math.NaN())
				}
				for _, k := range []int{1, 2, 10, 11, tt.n - 1} {
					if k < 1 || k >= tt.n {
						continue
					}
					if tt.nan && k <= 11 { // a k that needs the NaN's slot would take the -Inf stand-in
						got := topK(logits, k)
						clean := slices.Clone(logits)
						clean[slices.IndexFunc(clean, func(x float32) bool { return x != x })] = float32(math.Inf(-1))
						if want := topKReference(clean, k); !slices.Equal(got, want) {
							t.Fatalf("trial %d k=%d: topK with a NaN = %v, want %v (NaN skipped)", trial, k, got, want)
						}
						continue
					}
					if tt.nan {
						continue
					}
					if got, want := topK(logits, k), topKReference(logits, k); !slices.Equal(got, want) {
						t.Fatalf("trial %d k=%d: topK = %v, reference %v", trial, k, got, want)
					}
				}
			}
		})
	}
}

func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, 250112) // mT5's vocabulary
	for i := range logits {
		logits[i] = float32(rng.NormFloat64())
	}
	for _, f := range []struct {
		name string
		f    func([]float32, int) []int
	}{{"new", topK}, {"reference", topKReference}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				f.f(logits, 10)
			}
		})
	}
}
