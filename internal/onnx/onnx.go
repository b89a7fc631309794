// Package onnx writes and inspects ONNX models (ModelProto) in pure Go.
//
// It encodes the protobuf wire format directly with protowire instead of
// generated types, so xqg needs neither cgo nor a copy of onnx.proto. The
// writer streams tensor payloads from callbacks, which lets callers write
// multi-GiB models without materialising the weights, and moves tensors to an
// external data file (the layout `onnx.save(..., save_as_external_data=True)`
// produces) when a model would exceed protobuf's 2 GiB message limit.
package onnx

import (
	"fmt"
	"io"
)

// DataType is TensorProto.DataType.
type DataType int32

// Element types used by transformer exports.
const (
	Undefined DataType = 0
	Float     DataType = 1
	Uint8     DataType = 2
	Int8      DataType = 3
	Int32     DataType = 6
	Int64     DataType = 7
	String    DataType = 8
	Bool      DataType = 9
	Float16   DataType = 10
	Double    DataType = 11
	BFloat16  DataType = 16
)

// Size is the byte width of one element, 0 for variable-width types.
func (t DataType) Size() int64 {
	switch t {
	case Float, Int32:
		return 4
	case Int64, Double:
		return 8
	case Uint8, Int8, Bool:
		return 1
	case Float16, BFloat16:
		return 2
	}
	return 0
}

func (t DataType) String() string {
	switch t {
	case Float:
		return "float32"
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	case String:
		return "string"
	case Bool:
		return "bool"
	case Float16:
		return "float16"
	case Double:
		return "float64"
	case BFloat16:
		return "bfloat16"
	case Undefined:
		return "undefined"
	}
	return fmt.Sprintf("datatype(%d)", int32(t))
}

// Dim is one dimension of a value's shape: a fixed size, or a symbolic name
// such as "batch_size" (Param non-empty), or unknown (both zero).
type Dim struct {
	Value int64
	Param string
}

// D is a fixed dimension; P a symbolic one.
func D(v int64) Dim     { return Dim{Value: v} }
func P(name string) Dim { return Dim{Param: name} }

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	if d.Value == 0 {
		return "?"
	}
	return fmt.Sprint(d.Value)
}

// ValueInfo describes a graph input, output or intermediate value. A nil
// Shape means the rank is unknown.
type ValueInfo struct {
	Name  string
	Type  DataType
	Shape []Dim
}

// Tensor is an initializer or constant. Exactly one of Raw and Stream
// carries the payload (little-endian, row-major); Stream must write exactly
// NumBytes bytes and may be called once per write of the model.
type Tensor struct {
	Name   string
	Type   DataType
	Dims   []int64
	Raw    []byte
	Stream func(w io.Writer) error
}

// NumElements is the product of the dimensions (1 for a scalar).
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// NumBytes is the payload size.
func (t *Tensor) NumBytes() int64 { return t.NumElements() * t.Type.Size() }

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// Attribute types.
const (
	AttrFloatT   AttrType = 1
	AttrIntT     AttrType = 2
	AttrStringT  AttrType = 3
	AttrTensorT  AttrType = 4
	AttrGraphT   AttrType = 5
	AttrFloatsT  AttrType = 6
	AttrIntsT    AttrType = 7
	AttrStringsT AttrType = 8
)

// Attribute is a node attribute.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       string
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings []string
}

// Attribute constructors.
func AttrFloat(name string, v float32) Attribute {
	return Attribute{Name: name, Type: AttrFloatT, F: v}
}
func AttrInt(name string, v int64) Attribute { return Attribute{Name: name, Type: AttrIntT, I: v} }
func AttrString(name, v string) Attribute {
	return Attribute{Name: name, Type: AttrStringT, S: v}
}
func AttrTensor(name string, t *Tensor) Attribute {
	return Attribute{Name: name, Type: AttrTensorT, T: t}
}
func AttrGraph(name string, g *Graph) Attribute {
	return Attribute{Name: name, Type: AttrGraphT, G: g}
}
func AttrInts(name string, v ...int64) Attribute {
	return Attribute{Name: name, Type: AttrIntsT, Ints: v}
}
func AttrFloats(name string, v ...float32) Attribute {
	return Attribute{Name: name, Type: AttrFloatsT, Floats: v}
}

// Node is a NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []Attribute
}

// Graph is a GraphProto. Subgraphs (If branches) may reference values of
// the enclosing graphs by name.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfos   []ValueInfo
}

// OpsetID is an OperatorSetIdProto.
type OpsetID struct {
	Domain  string
	Version int64
}

// Model is a ModelProto.
type Model struct {
	IRVersion       int64
	Opsets          []OpsetID
	ProducerName    string
	ProducerVersion string
	DocString       string
	Metadata        map[string]string
	Graph           *Graph
}

// DefaultOpset is the default-domain opset the builders target. ONNX
// Runtime 1.24 implements opsets up to 23; 17 is what current Optimum
// exports default to and has LayerNormalization.
const DefaultOpset = 17

// DefaultIRVersion is the IR version matching DefaultOpset (onnx 1.13).
const DefaultIRVersion = 8

// NewModel returns a model for g with the default IR version and opset.
func NewModel(g *Graph) *Model {
	return &Model{
		IRVersion:       DefaultIRVersion,
		Opsets:          []OpsetID{{Domain: "", Version: DefaultOpset}},
		ProducerName:    "xqg",
		ProducerVersion: "1",
		Graph:           g,
	}
}
