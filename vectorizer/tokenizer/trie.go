package tokenizer

import (
	"cmp"
	"slices"
	"strings"
)

// byteTrie is an immutable double-array trie over bytes: the child of node
// n by byte b is unit m = units[n].base + b when units[m].check == n. A step
// is two loads from one 12-byte unit, which is what the Viterbi and
// WordPiece inner loops spend their time on. Node 0 is the root.
type byteTrie struct {
	units []trieUnit
	// root caches the root's children (-1 for none): a one-load filter for
	// scanning text for added tokens.
	root [256]int32
}

type trieUnit struct {
	base  int32 // children at base+b; 0 when the node has none
	check int32 // parent node; -1 for a free unit, < -1 for an unused one
	value int32 // -1 when no key ends at the node
}

type trieKey struct {
	key string
	val int32
}

// buildTrie builds the trie; for a key given more than once the first
// occurrence's value wins.
func buildTrie(keys []trieKey) *byteTrie {
	// Sorting positions with the position as tie-break is a stable sort
	// without the cost of slices.SortStableFunc's merges.
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := strings.Compare(keys[a].key, keys[b].key); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	sorted := make([]trieKey, len(keys))
	for i, k := range order {
		sorted[i] = keys[k]
	}
	keys = sorted
	// Unit 0 is the root: never free, never anyone's child.
	b := trieBuilder{units: []trieUnit{{check: -2, value: -1}}, next: []int32{0}, prev: []int32{0}}
	b.grow(256)
	// Breadth-first over ranges of sorted keys sharing a prefix of length
	// depth; each range is one node.
	type job struct {
		node          int32
		lo, hi, depth int
	}
	queue := []job{{0, 0, len(keys), 0}}
	var labels []byte
	for qi := 0; qi < len(queue); qi++ {
		j := queue[qi]
		lo := j.lo
		if lo < j.hi && len(keys[lo].key) == j.depth {
			b.units[j.node].value = keys[lo].val
			for lo < j.hi && len(keys[lo].key) == j.depth {
				lo++
			}
		}
		if lo == j.hi {
			continue
		}
		labels = labels[:0]
		for k := lo; k < j.hi; k++ {
			if c := keys[k].key[j.depth]; len(labels) == 0 || labels[len(labels)-1] != c {
				labels = append(labels, c)
			}
		}
		base := b.place(labels)
		b.units[j.node].base = base
		for _, c := range labels {
			b.units[base+int32(c)].check = j.node
			b.unlink(base + int32(c))
		}
		for k := lo; k < j.hi; {
			c := keys[k].key[j.depth]
			e := k + 1
			for e < j.hi && keys[e].key[j.depth] == c {
				e++
			}
			queue = append(queue, job{base + int32(c), k, e, j.depth + 1})
			k = e
		}
	}
	// Every base+b of a node with children must be a valid index.
	maxBase := int32(0)
	for _, u := range b.units {
		maxBase = max(maxBase, u.base)
	}
	b.grow(int(maxBase) + 256)
	t := &byteTrie{units: b.units}
	for c := range t.root {
		t.root[c] = t.child(0, byte(c))
	}
	return t
}

// trieBuilder keeps the free units in a circular doubly linked list so that
// placing a node skips occupied units without scanning them. As in
// darts-clone, only the last openBlocks blocks of 256 units stay in the
// list: the rest are nearly full, and probing them for nodes with many
// children made building a 250k-piece vocabulary take seconds.
type trieBuilder struct {
	units      []trieUnit
	next, prev []int32
	head       int32 // first free unit, <= 0 when none
	closed     int   // units below closed*256 are out of the free list
}

const openBlocks = 16

func (b *trieBuilder) grow(n int) {
	for len(b.units) < n {
		i := int32(len(b.units))
		if i%256 == 0 && int(i)/256-b.closed > openBlocks {
			b.closeBlock()
		}
		b.units = append(b.units, trieUnit{check: -1, value: -1})
		b.next, b.prev = append(b.next, i), append(b.prev, i)
		if b.head <= 0 {
			b.head = i
			continue
		}
		last := b.prev[b.head]
		b.next[last], b.prev[i], b.next[i], b.prev[b.head] = i, last, b.head, i
	}
}

// closeBlock drops the oldest open block's free units from the list; they
// stay unused.
func (b *trieBuilder) closeBlock() {
	lo := int32(b.closed * 256)
	for i := max(lo, 1); i < lo+256; i++ {
		if b.units[i].check == -1 {
			b.unlink(i)
			b.units[i].check = -3
		}
	}
	b.closed++
}

func (b *trieBuilder) unlink(i int32) {
	if b.next[i] == i {
		b.head = -1
		return
	}
	n, p := b.next[i], b.prev[i]
	b.next[p], b.prev[n] = n, p
	if b.head == i {
		b.head = n
	}
}

// place finds a base at which every label's unit is free, growing the
// array when none is.
func (b *trieBuilder) place(labels []byte) int32 {
	first := int32(labels[0])
	if b.head > 0 {
		for p := b.head; ; {
			if base := p - first; base >= 1 && b.fits(base, labels) {
				return base
			}
			p = b.next[p]
			if p == b.head {
				break
			}
		}
	}
	base := max(int32(len(b.units))-first, 1)
	b.grow(int(base) + 256)
	return base
}

func (b *trieBuilder) fits(base int32, labels []byte) bool {
	if int(base)+256 > len(b.units) {
		b.grow(int(base) + 256)
	}
	for _, c := range labels[1:] {
		if b.units[base+int32(c)].check != -1 {
			return false
		}
	}
	return true
}

// child returns the node reached from n by byte c, or -1.
func (t *byteTrie) child(n int32, c byte) int32 {
	m := t.units[n].base + int32(c)
	if t.units[n].base == 0 || t.units[m].check != n {
		return -1
	}
	return m
}

// longest returns the value and length of the longest key that prefixes s,
// or (-1, 0).
func (t *byteTrie) longest(s []byte) (int32, int) {
	units := t.units
	n := int32(0)
	best, bestLen := int32(-1), 0
	for i, c := range s {
		u := units[n]
		if u.base == 0 {
			break
		}
		m := u.base + int32(c)
		if units[m].check != n {
			break
		}
		n = m
		if v := units[m].value; v >= 0 {
			best, bestLen = v, i+1
		}
	}
	return best, bestLen
}
