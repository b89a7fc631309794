package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Builder appends nodes to a graph and hands out unique value names.
// Sub-builders (for If branches) share the name counter, and keep weights
// and constants in the root graph, which every subgraph can see.
type Builder struct {
	G      *Graph
	root   *Builder
	prefix string
	seq    *int
	inits  map[string]*Tensor
	consts map[string]string
}

// NewBuilder starts an empty graph.
func NewBuilder(name string) *Builder {
	b := &Builder{G: &Graph{Name: name}, seq: new(int), inits: map[string]*Tensor{}, consts: map[string]string{}}
	b.root = b
	return b
}

// Sub returns a builder for a subgraph whose generated names start with
// prefix.
func (b *Builder) Sub(name, prefix string) *Builder {
	return &Builder{G: &Graph{Name: name}, root: b.root, prefix: prefix, seq: b.seq}
}

func (b *Builder) fresh(op string) string {
	*b.seq++
	return fmt.Sprintf("%s%s_%d", b.prefix, op, *b.seq)
}

// Input declares a graph input and returns its name.
func (b *Builder) Input(name string, t DataType, shape ...Dim) string {
	b.G.Inputs = append(b.G.Inputs, ValueInfo{Name: name, Type: t, Shape: shape})
	return name
}

// Output declares value as a graph output called name (adding an Identity
// when the names differ) with the given type and shape.
func (b *Builder) Output(value, name string, t DataType, shape ...Dim) {
	if value != name {
		b.OpTo(name, "Identity", []string{value})
	}
	b.G.Outputs = append(b.G.Outputs, ValueInfo{Name: name, Type: t, Shape: shape})
}

// Op adds a single-output node and returns the output's name.
func (b *Builder) Op(op string, inputs []string, attrs ...Attribute) string {
	return b.OpTo(b.fresh(op), op, inputs, attrs...)
}

// OpTo adds a single-output node writing to out.
func (b *Builder) OpTo(out, op string, inputs []string, attrs ...Attribute) string {
	b.G.Nodes = append(b.G.Nodes, &Node{
		Name: b.prefix + "n_" + out, OpType: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs,
	})
	return out
}

// OpN adds a node with n outputs.
func (b *Builder) OpN(op string, inputs []string, n int, attrs ...Attribute) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = b.fresh(op)
	}
	b.G.Nodes = append(b.G.Nodes, &Node{
		Name: b.prefix + "n_" + outs[0], OpType: op, Inputs: inputs, Outputs: outs, Attrs: attrs,
	})
	return outs
}

// Initializer adds t to the root graph once (by name) and returns its name.
func (b *Builder) Initializer(t *Tensor) string {
	r := b.root
	if old, ok := r.inits[t.Name]; ok {
		if old != t {
			panic(fmt.Sprintf("onnx: two different initializers named %q", t.Name))
		}
		return t.Name
	}
	r.inits[t.Name] = t
	r.G.Initializers = append(r.G.Initializers, t)
	return t.Name
}

func (b *Builder) constant(kind string, t DataType, dims []int64, raw []byte) string {
	r := b.root
	key := fmt.Sprintf("%d/%v/%x", t, dims, raw)
	if name, ok := r.consts[key]; ok {
		return name
	}
	*r.seq++
	name := fmt.Sprintf("const_%s_%d", kind, *r.seq)
	r.consts[key] = name
	return r.Initializer(&Tensor{Name: name, Type: t, Dims: dims, Raw: raw})
}

// ConstI64 is a 1-D int64 constant.
func (b *Builder) ConstI64(v ...int64) string {
	return b.constant("i64", Int64, []int64{int64(len(v))}, Int64Bytes(v))
}

// ScalarI64 is a 0-D int64 constant.
func (b *Builder) ScalarI64(v int64) string {
	return b.constant("i64", Int64, nil, Int64Bytes([]int64{v}))
}

// ScalarF32 is a 0-D float constant.
func (b *Builder) ScalarF32(v float32) string {
	return b.constant("f32", Float, nil, Float32Bytes([]float32{v}))
}

// ConstF32 is a float constant of the given shape.
func (b *Builder) ConstF32(dims []int64, v []float32) string {
	return b.constant("f32", Float, dims, Float32Bytes(v))
}

// Float32Bytes encodes v little-endian.
func Float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

// Int64Bytes encodes v little-endian.
func Int64Bytes(v []int64) []byte {
	out := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(out[8*i:], uint64(x))
	}
	return out
}
