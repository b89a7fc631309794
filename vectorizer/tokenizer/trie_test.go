package tokenizer

import (
	"math/rand/v2"
	"testing"
)

// TestByteTrie checks longest-prefix lookups and child walks against a
// brute-force scan of the keys, on random keys over a small alphabet (dense
// sharing of prefixes) and a full byte range (wide fan-out).
func TestByteTrie(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alphabet int
		keys     int
	}{{"dense", 3, 300}, {"wide", 256, 2000}, {"empty", 4, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.alphabet)))
			word := func() string {
				b := make([]byte, 1+r.IntN(8))
				for i := range b {
					b[i] = byte(r.IntN(tc.alphabet))
				}
				return string(b)
			}
			var keys []trieKey
			vals := map[string]int32{}
			for i := 0; i < tc.keys; i++ {
				w := word()
				keys = append(keys, trieKey{w, int32(i)})
				if _, ok := vals[w]; !ok {
					vals[w] = int32(i) // the first occurrence wins
				}
			}
			tr := buildTrie(append([]trieKey(nil), keys...))
			for q := 0; q < 3000; q++ {
				s := []byte(word() + word())
				wantV, wantN := int32(-1), 0
				for n := 1; n <= len(s); n++ {
					if v, ok := vals[string(s[:n])]; ok {
						wantV, wantN = v, n
					}
				}
				if v, n := tr.longest(s); v != wantV || n != wantN {
					t.Fatalf("longest(%q) = %d,%d, want %d,%d", s, v, n, wantV, wantN)
				}
				node := int32(0)
				for i, c := range s {
					if node = tr.child(node, c); node < 0 {
						break
					}
					v, ok := vals[string(s[:i+1])]
					if got := tr.units[node].value; (got >= 0) != ok || (ok && got != v) {
						t.Fatalf("walk %q: value %d, want %d (%v)", s[:i+1], got, v, ok)
					}
				}
				if c := s[0]; tr.root[c] != tr.child(0, c) {
					t.Fatalf("root[%d] = %d, child = %d", c, tr.root[c], tr.child(0, c))
				}
			}
		})
	}
}
