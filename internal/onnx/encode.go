package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto (onnx/onnx repository, stable since IR v3).
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	opsetDomain  = 1
	opsetVersion = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDomain    = 7

	attrName    = 1
	attrF       = 2
	attrI       = 3
	attrS       = 4
	attrT       = 5
	attrG       = 6
	attrFloats  = 7
	attrInts    = 8
	attrStrings = 9
	attrType    = 20

	tensorDims         = 1
	tensorDataType     = 2
	tensorName         = 8
	tensorRawData      = 9
	tensorExternalData = 13
	tensorDataLocation = 14

	entryKey   = 1
	entryValue = 2

	valueName = 1
	valueType = 2

	typeTensor      = 1
	typeTensorElem  = 1
	typeTensorShape = 2
	shapeDim        = 1
	dimValue        = 1
	dimParam        = 2

	dataLocationExternal = 1
)

// MaxProtoSize is the largest model file protobuf (and so ONNX Runtime)
// can parse; models above it must keep tensors in external data.
const MaxProtoSize = math.MaxInt32

// WriteOptions controls where tensor payloads go.
type WriteOptions struct {
	// External forces tensors of at least ExternalMinBytes into the
	// external data file even for small models.
	External bool
	// ExternalMinBytes: smaller tensors stay inline (onnx's default
	// size_threshold is 1024).
	ExternalMinBytes int64
	// AutoExternalAbove switches to external data when the inline model
	// would be larger than this many bytes; 0 means a margin under
	// MaxProtoSize.
	AutoExternalAbove int64
}

// piece is one run of the serialised output: literal bytes, or a tensor
// payload produced while writing.
type piece struct {
	b []byte
	t *Tensor
}

type pieces []piece

func (ps pieces) size() int64 {
	var n int64
	for _, p := range ps {
		if p.t != nil {
			n += p.t.NumBytes()
		} else {
			n += int64(len(p.b))
		}
	}
	return n
}

func lit(b []byte) pieces { return pieces{{b: b}} }

// message frames inner as field num of the enclosing message.
func message(num protowire.Number, inner pieces) pieces {
	var h []byte
	h = protowire.AppendTag(h, num, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(inner.size()))
	return append(pieces{{b: h}}, inner...)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// extRef places a tensor in the external data file.
type extRef struct {
	location       string
	offset, length int64
}

type encoder struct {
	ext map[*Tensor]extRef
}

func (e *encoder) tensor(t *Tensor) (pieces, error) {
	if t.Type.Size() == 0 {
		return nil, fmt.Errorf("tensor %q: unsupported data type %v", t.Name, t.Type)
	}
	if t.Raw != nil && t.Stream != nil {
		return nil, fmt.Errorf("tensor %q: both Raw and Stream set", t.Name)
	}
	if t.Raw == nil && t.Stream == nil && t.NumBytes() != 0 {
		return nil, fmt.Errorf("tensor %q: no data", t.Name)
	}
	if t.Raw != nil && int64(len(t.Raw)) != t.NumBytes() {
		return nil, fmt.Errorf("tensor %q: %d bytes of data for dims %v (%v needs %d)",
			t.Name, len(t.Raw), t.Dims, t.Type, t.NumBytes())
	}
	var h []byte
	for _, d := range t.Dims {
		if d < 0 {
			return nil, fmt.Errorf("tensor %q: negative dimension in %v", t.Name, t.Dims)
		}
		h = appendVarint(h, tensorDims, uint64(d))
	}
	h = appendVarint(h, tensorDataType, uint64(t.Type))
	h = appendString(h, tensorName, t.Name)
	if ref, ok := e.ext[t]; ok {
		for _, kv := range [][2]string{
			{"location", ref.location},
			{"offset", strconv.FormatInt(ref.offset, 10)},
			{"length", strconv.FormatInt(ref.length, 10)},
		} {
			var entry []byte
			entry = appendString(entry, entryKey, kv[0])
			entry = appendString(entry, entryValue, kv[1])
			h = protowire.AppendTag(h, tensorExternalData, protowire.BytesType)
			h = protowire.AppendBytes(h, entry)
		}
		h = appendVarint(h, tensorDataLocation, dataLocationExternal)
		return lit(h), nil
	}
	h = protowire.AppendTag(h, tensorRawData, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(t.NumBytes()))
	ps := lit(h)
	if t.Raw != nil {
		ps = append(ps, piece{b: t.Raw})
	} else if t.NumBytes() > 0 {
		ps = append(ps, piece{t: t})
	}
	return ps, nil
}

func valueInfo(v ValueInfo) pieces {
	var tt []byte
	tt = appendVarint(tt, typeTensorElem, uint64(v.Type))
	if v.Shape != nil {
		var shape []byte
		for _, d := range v.Shape {
			var dim []byte
			switch {
			case d.Param != "":
				dim = appendString(dim, dimParam, d.Param)
			case d.Value > 0:
				dim = appendVarint(dim, dimValue, uint64(d.Value))
			}
			shape = protowire.AppendTag(shape, shapeDim, protowire.BytesType)
			shape = protowire.AppendBytes(shape, dim)
		}
		tt = protowire.AppendTag(tt, typeTensorShape, protowire.BytesType)
		tt = protowire.AppendBytes(tt, shape)
	}
	var typ []byte
	typ = protowire.AppendTag(typ, typeTensor, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tt)
	var b []byte
	b = appendString(b, valueName, v.Name)
	b = protowire.AppendTag(b, valueType, protowire.BytesType)
	b = protowire.AppendBytes(b, typ)
	return lit(b)
}

func (e *encoder) attribute(a Attribute) (pieces, error) {
	var h []byte
	h = appendString(h, attrName, a.Name)
	h = appendVarint(h, attrType, uint64(a.Type))
	ps := pieces{}
	switch a.Type {
	case AttrFloatT:
		h = protowire.AppendTag(h, attrF, protowire.Fixed32Type)
		h = protowire.AppendFixed32(h, math.Float32bits(a.F))
	case AttrIntT:
		h = appendVarint(h, attrI, uint64(a.I))
	case AttrStringT:
		h = appendString(h, attrS, a.S)
	case AttrFloatsT:
		for _, f := range a.Floats {
			h = protowire.AppendTag(h, attrFloats, protowire.Fixed32Type)
			h = protowire.AppendFixed32(h, math.Float32bits(f))
		}
	case AttrIntsT:
		for _, v := range a.Ints {
			h = appendVarint(h, attrInts, uint64(v))
		}
	case AttrStringsT:
		for _, s := range a.Strings {
			h = appendString(h, attrStrings, s)
		}
	case AttrTensorT:
		if a.T == nil {
			return nil, fmt.Errorf("attribute %q: nil tensor", a.Name)
		}
		// Attribute tensors are never moved to external data.
		inner := &encoder{}
		t, err := inner.tensor(a.T)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		ps = append(ps, message(attrT, t)...)
	case AttrGraphT:
		if a.G == nil {
			return nil, fmt.Errorf("attribute %q: nil graph", a.Name)
		}
		g, err := e.graph(a.G)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		ps = append(ps, message(attrG, g)...)
	default:
		return nil, fmt.Errorf("attribute %q: unsupported type %d", a.Name, a.Type)
	}
	return append(lit(h), ps...), nil
}

func (e *encoder) node(n *Node) (pieces, error) {
	var h []byte
	for _, in := range n.Inputs {
		h = appendString(h, nodeInput, in)
	}
	for _, out := range n.Outputs {
		h = appendString(h, nodeOutput, out)
	}
	if n.Name != "" {
		h = appendString(h, nodeName, n.Name)
	}
	h = appendString(h, nodeOpType, n.OpType)
	if n.Domain != "" {
		h = appendString(h, nodeDomain, n.Domain)
	}
	ps := lit(h)
	for _, a := range n.Attrs {
		ap, err := e.attribute(a)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
		}
		ps = append(ps, message(nodeAttribute, ap)...)
	}
	return ps, nil
}

func (e *encoder) graph(g *Graph) (pieces, error) {
	var ps pieces
	for _, n := range g.Nodes {
		np, err := e.node(n)
		if err != nil {
			return nil, fmt.Errorf("graph %q: %w", g.Name, err)
		}
		ps = append(ps, message(graphNode, np)...)
	}
	ps = append(ps, lit(appendString(nil, graphName, g.Name))...)
	for _, t := range g.Initializers {
		tp, err := e.tensor(t)
		if err != nil {
			return nil, fmt.Errorf("graph %q: %w", g.Name, err)
		}
		ps = append(ps, message(graphInitializer, tp)...)
	}
	for _, v := range g.Inputs {
		ps = append(ps, message(graphInput, valueInfo(v))...)
	}
	for _, v := range g.Outputs {
		ps = append(ps, message(graphOutput, valueInfo(v))...)
	}
	for _, v := range g.ValueInfos {
		ps = append(ps, message(graphValueInfo, valueInfo(v))...)
	}
	return ps, nil
}

func (e *encoder) model(m *Model) (pieces, error) {
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	var h []byte
	h = appendVarint(h, modelIRVersion, uint64(m.IRVersion))
	for _, o := range m.Opsets {
		var op []byte
		op = appendString(op, opsetDomain, o.Domain)
		op = appendVarint(op, opsetVersion, uint64(o.Version))
		h = protowire.AppendTag(h, modelOpsetImport, protowire.BytesType)
		h = protowire.AppendBytes(h, op)
	}
	if m.ProducerName != "" {
		h = appendString(h, modelProducerName, m.ProducerName)
	}
	if m.ProducerVersion != "" {
		h = appendString(h, modelProducerVersion, m.ProducerVersion)
	}
	if m.DocString != "" {
		h = appendString(h, modelDocString, m.DocString)
	}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var entry []byte
		entry = appendString(entry, entryKey, k)
		entry = appendString(entry, entryValue, m.Metadata[k])
		h = protowire.AppendTag(h, modelMetadataProps, protowire.BytesType)
		h = protowire.AppendBytes(h, entry)
	}
	g, err := e.graph(m.Graph)
	if err != nil {
		return nil, err
	}
	return append(lit(h), message(modelGraph, g)...), nil
}

// countingWriter checks that a tensor stream writes exactly its size.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func writeTensorPayload(w io.Writer, t *Tensor) error {
	cw := &countingWriter{w: w}
	if err := t.Stream(cw); err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if cw.n != t.NumBytes() {
		return fmt.Errorf("tensor %q: stream wrote %d bytes, dims %v need %d", t.Name, cw.n, t.Dims, t.NumBytes())
	}
	return nil
}

func writePieces(w io.Writer, ps pieces) error {
	for _, p := range ps {
		if p.t != nil {
			if err := writeTensorPayload(w, p.t); err != nil {
				return err
			}
			continue
		}
		if _, err := w.Write(p.b); err != nil {
			return err
		}
	}
	return nil
}

// Encode serialises a model with every tensor inline, into memory. Meant
// for small models and tests.
func Encode(m *Model) ([]byte, error) {
	e := &encoder{}
	ps, err := e.model(m)
	if err != nil {
		return nil, err
	}
	if ps.size() > MaxProtoSize {
		return nil, fmt.Errorf("model is %d bytes, over the 2 GiB protobuf limit: write it with external data", ps.size())
	}
	buf := make([]byte, 0, ps.size())
	bw := &sliceWriter{b: buf}
	if err := writePieces(bw, ps); err != nil {
		return nil, err
	}
	return bw.b, nil
}

type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// ExternalDataName is the data file name onnx (and Optimum) use for a model
// file: "model.onnx" → "model.onnx_data".
func ExternalDataName(modelPath string) string { return filepath.Base(modelPath) + "_data" }

// extAlign aligns external tensors to pages so ONNX Runtime can mmap them.
const extAlign = 4096

func collectInitializers(g *Graph, out *[]*Tensor) {
	*out = append(*out, g.Initializers...)
	for _, n := range g.Nodes {
		for _, a := range n.Attrs {
			if a.Type == AttrGraphT && a.G != nil {
				collectInitializers(a.G, out)
			}
		}
	}
}

// WriteFile writes the model to path, streaming tensor payloads. Tensors go
// to ExternalDataName(path) next to it when opts ask for it or the model
// would not fit in one protobuf message. It returns the external data path
// ("" when everything is inline).
func (m *Model) WriteFile(path string, opts WriteOptions) (string, error) {
	limit := opts.AutoExternalAbove
	if limit <= 0 {
		limit = MaxProtoSize - 64<<20
	}
	e := &encoder{}
	ps, err := e.model(m)
	if err != nil {
		return "", err
	}
	external := opts.External || ps.size() > limit
	dataPath := ""
	var extTensors []*Tensor
	if external {
		minBytes := opts.ExternalMinBytes
		if minBytes <= 0 {
			minBytes = 1024
		}
		var all []*Tensor
		collectInitializers(m.Graph, &all)
		e.ext = map[*Tensor]extRef{}
		loc := ExternalDataName(path)
		var off int64
		for _, t := range all {
			// Shape inference reads int64 constants (shapes, axes,
			// lookup tables), and cannot read them from external data.
			if t.NumBytes() < minBytes || t.Type == Int64 {
				continue
			}
			if _, dup := e.ext[t]; dup {
				continue
			}
			off = (off + extAlign - 1) / extAlign * extAlign
			e.ext[t] = extRef{location: loc, offset: off, length: t.NumBytes()}
			extTensors = append(extTensors, t)
			off += t.NumBytes()
		}
		if ps, err = e.model(m); err != nil {
			return "", err
		}
		if ps.size() > MaxProtoSize {
			return "", fmt.Errorf("%s: %d bytes even with external data", path, ps.size())
		}
		dataPath = filepath.Join(filepath.Dir(path), loc)
		if err := writeExternal(dataPath, extTensors, e.ext); err != nil {
			return "", err
		}
	} else if err := os.Remove(filepath.Join(filepath.Dir(path), ExternalDataName(path))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := writeFileWith(path, func(w io.Writer) error { return writePieces(w, ps) }); err != nil {
		return "", err
	}
	return dataPath, nil
}

func writeExternal(path string, ts []*Tensor, refs map[*Tensor]extRef) error {
	return writeFileWith(path, func(w io.Writer) error {
		var pos int64
		zeros := make([]byte, extAlign)
		for _, t := range ts {
			ref := refs[t]
			if pad := ref.offset - pos; pad > 0 {
				if _, err := w.Write(zeros[:pad]); err != nil {
					return err
				}
			}
			var err error
			if t.Raw != nil {
				_, err = w.Write(t.Raw)
			} else {
				err = writeTensorPayload(w, t)
			}
			if err != nil {
				return err
			}
			pos = ref.offset + ref.length
		}
		return nil
	})
}

func writeFileWith(path string, fill func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
