package tinymodels

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"
)

// decodeRef decodes with the Go reference: greedy when rng is nil, else
// top-10 sampling.
func decodeRef(m *t5Model, passage []int64, rng *rand.Rand, maxNew int) []int64 {
	mask := make([]int64, len(passage))
	for i := range mask {
		mask[i] = 1
	}
	enc := m.refEncoder(passage, mask)
	seq := []int64{T5PadID}
	for step := 0; step < maxNew; step++ {
		l := m.refDecoder(enc, mask, seq).row(len(seq) - 1)
		idx := make([]int, len(l))
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool { return l[idx[a]] > l[idx[b]] })
		next := idx[0]
		if rng != nil {
			ws := make([]float64, 10)
			sum := 0.0
			for j := range ws {
				ws[j] = math.Exp(l[idx[j]] - l[idx[0]])
				sum += ws[j]
			}
			u := rng.Float64() * sum
			for j := range ws {
				if u -= ws[j]; u <= 0 {
					next = idx[j]
					break
				}
			}
		}
		seq = append(seq, int64(next))
		if next == T5EOSID {
			break
		}
	}
	return seq[1:]
}

// The generation shaping must make EOS reachable but not immediate, and
// leave the tokens dependent on the passage and the sampling seed.
func TestTinyT5GenerationEndsAtEOS(t *testing.T) {
	vocab := unigramVocab()
	m := newT5(TinySeq2Seq, len(vocab))
	m.shapeGeneration(vocab)
	passages := [][]int64{{40, 41, 300, 7, 150, 1}, {60, 41, 1}, {500, 600, 700, 800, 900, 1000, 1100, 1}}
	const maxNew = 32
	seen := map[string]bool{}
	for pi, p := range passages {
		for trial := 0; trial < 3; trial++ {
			var rng *rand.Rand
			if trial > 0 {
				rng = rand.New(rand.NewSource(int64(trial)))
			}
			out := decodeRef(m, p, rng, maxNew)
			n := len(out)
			if out[n-1] != T5EOSID {
				t.Errorf("passage %d trial %d: no EOS within %d tokens: %v", pi, trial, maxNew, out)
			} else if n < 5 {
				t.Errorf("passage %d trial %d: EOS after only %d tokens", pi, trial, n)
			}
			seen[fmt.Sprint(out)] = true
		}
	}
	if len(seen) != 9 {
		t.Errorf("%d distinct generations of 9 (passages × seeds)", len(seen))
	}
}
