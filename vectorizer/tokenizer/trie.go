package tokenizer

import (
	"sort"
)

// byteTrie is an immutable trie over bytes stored in flat arrays: node i's
// children are labels[first[i]:first[i+1]] (sorted) with targets at the same
// positions. Lookups walk bytes without allocating.
type byteTrie struct {
	first   []int32
	labels  []byte
	targets []int32
	value   []int32 // -1 when no key ends at the node
	root    [256]int32
}

type trieKey struct {
	key string
	val int32
}

func buildTrie(keys []trieKey) *byteTrie {
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	// Build a pointer trie first, then flatten breadth-first.
	type node struct {
		kids map[byte]*node
		val  int32
		id   int32
	}
	newNode := func() *node { return &node{val: -1} }
	root := newNode()
	for _, k := range keys {
		n := root
		for i := 0; i < len(k.key); i++ {
			if n.kids == nil {
				n.kids = map[byte]*node{}
			}
			c, ok := n.kids[k.key[i]]
			if !ok {
				c = newNode()
				n.kids[k.key[i]] = c
			}
			n = c
		}
		if n.val < 0 {
			n.val = k.val
		}
	}
	t := &byteTrie{}
	queue := []*node{root}
	root.id = 0
	next := int32(1)
	for qi := 0; qi < len(queue); qi++ {
		n := queue[qi]
		t.first = append(t.first, int32(len(t.labels)))
		t.value = append(t.value, n.val)
		ls := make([]int, 0, len(n.kids))
		for b := range n.kids {
			ls = append(ls, int(b))
		}
		sort.Ints(ls)
		for _, b := range ls {
			c := n.kids[byte(b)]
			c.id = next
			next++
			queue = append(queue, c)
			t.labels = append(t.labels, byte(b))
			t.targets = append(t.targets, c.id)
		}
	}
	t.first = append(t.first, int32(len(t.labels)))
	for i := range t.root {
		t.root[i] = -1
	}
	for k := t.first[0]; k < t.first[1]; k++ {
		t.root[t.labels[k]] = t.targets[k]
	}
	return t
}

// child returns the node reached from n by byte b, or -1.
func (t *byteTrie) child(n int32, b byte) int32 {
	if n == 0 {
		return t.root[b]
	}
	lo, hi := t.first[n], t.first[n+1]
	if hi-lo <= 8 {
		for k := lo; k < hi; k++ {
			if t.labels[k] == b {
				return t.targets[k]
			}
		}
		return -1
	}
	for lo < hi {
		m := (lo + hi) / 2
		switch l := t.labels[m]; {
		case l == b:
			return t.targets[m]
		case l < b:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// longest returns the value and length of the longest key that prefixes s,
// or (-1, 0).
func (t *byteTrie) longest(s []byte) (int32, int) {
	n := int32(0)
	best, bestLen := int32(-1), 0
	for i := 0; i < len(s); i++ {
		n = t.child(n, s[i])
		if n < 0 {
			break
		}
		if v := t.value[n]; v >= 0 {
			best, bestLen = v, i+1
		}
	}
	return best, bestLen
}
