package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// TensorInfo is an initializer's metadata, without its payload.
type TensorInfo struct {
	Name             string
	Type             DataType
	Dims             []int64
	ExternalLocation string // "" when the payload is inline
	ExternalOffset   int64
	ExternalLength   int64 // -1 when the entry omits it (rest of file)
}

// NumBytes is the payload size implied by type and dims.
func (t TensorInfo) NumBytes() int64 {
	n := t.Type.Size()
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// ModelInfo is what ReadInfo extracts from a model file: enough to check
// that a model has the interface a caller expects.
type ModelInfo struct {
	IRVersion    int64
	Opsets       []OpsetID
	ProducerName string
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	Initializers []TensorInfo
	OpCounts     map[string]int
}

// Input returns the graph input called name.
func (m *ModelInfo) Input(name string) (ValueInfo, bool) { return find(m.Inputs, name) }

// Output returns the graph output called name.
func (m *ModelInfo) Output(name string) (ValueInfo, bool) { return find(m.Outputs, name) }

func find(vs []ValueInfo, name string) (ValueInfo, bool) {
	for _, v := range vs {
		if v.Name == name {
			return v, true
		}
	}
	return ValueInfo{}, false
}

// seekStream reads protobuf fields from a file and can skip large payloads
// (raw tensor data) without reading them, so inspecting a 2 GiB model
// costs little memory.
type seekStream struct {
	f   *os.File
	r   *bufio.Reader
	pos int64
}

func (s *seekStream) ReadByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err == nil {
		s.pos++
	}
	return c, err
}

func (s *seekStream) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := s.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

func (s *seekStream) skip(n int64) error {
	if n < 0 {
		return errors.New("negative length")
	}
	if n <= int64(s.r.Buffered()) || n < 1<<20 {
		d, err := s.r.Discard(int(n))
		s.pos += int64(d)
		return err
	}
	target := s.pos + n
	if _, err := s.f.Seek(target, io.SeekStart); err != nil {
		return err
	}
	s.r.Reset(s.f)
	s.pos = target
	return nil
}

func (s *seekStream) bytes(n int64) ([]byte, error) {
	if n < 0 || n > 256<<20 {
		return nil, fmt.Errorf("field of %d bytes is implausible here", n)
	}
	b := make([]byte, n)
	m, err := io.ReadFull(s.r, b)
	s.pos += int64(m)
	return b, err
}

// field reads one tag; for length-delimited fields it also reads the
// length, for varints the value.
func (s *seekStream) field() (num protowire.Number, typ protowire.Type, val uint64, err error) {
	tag, err := s.varint()
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ = protowire.DecodeTag(tag)
	if num <= 0 {
		return 0, 0, 0, fmt.Errorf("bad field number at byte %d", s.pos)
	}
	switch typ {
	case protowire.VarintType, protowire.BytesType:
		val, err = s.varint()
	case protowire.Fixed32Type:
		err = s.skip(4)
	case protowire.Fixed64Type:
		err = s.skip(8)
	default:
		err = fmt.Errorf("unsupported wire type %d at byte %d", typ, s.pos)
	}
	return num, typ, val, err
}

func (s *seekStream) skipValue(typ protowire.Type, val uint64) error {
	if typ == protowire.BytesType {
		return s.skip(int64(val))
	}
	return nil
}

// ReadInfo parses a model file's interface: inputs, outputs (name, element
// type, shape), opsets and initializer metadata. Tensor payloads are
// skipped, not read.
func ReadInfo(path string) (*ModelInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s := &seekStream{f: f, r: bufio.NewReaderSize(f, 1<<16)}
	info := &ModelInfo{OpCounts: map[string]int{}}
	sawGraph := false
	for s.pos < st.Size() {
		num, typ, val, err := s.field()
		if err != nil {
			return nil, fmt.Errorf("%s: not an ONNX model: %w", path, err)
		}
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			info.IRVersion = int64(val)
		case num == modelOpsetImport && typ == protowire.BytesType:
			b, err := s.bytes(int64(val))
			if err != nil {
				return nil, fmt.Errorf("%s: opset_import: %w", path, err)
			}
			op, err := decodeOpset(b)
			if err != nil {
				return nil, fmt.Errorf("%s: opset_import: %w", path, err)
			}
			info.Opsets = append(info.Opsets, op)
		case num == modelProducerName && typ == protowire.BytesType:
			b, err := s.bytes(int64(val))
			if err != nil {
				return nil, fmt.Errorf("%s: producer_name: %w", path, err)
			}
			info.ProducerName = string(b)
		case num == modelGraph && typ == protowire.BytesType:
			end := s.pos + int64(val)
			if end > st.Size() {
				return nil, fmt.Errorf("%s: truncated: graph needs %d bytes, file has %d", path, end, st.Size())
			}
			if err := s.graph(end, info); err != nil {
				return nil, fmt.Errorf("%s: graph: %w", path, err)
			}
			sawGraph = true
		default:
			if err := s.skipValue(typ, val); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	if s.pos != st.Size() {
		return nil, fmt.Errorf("%s: truncated: last field runs past the end of the file", path)
	}
	if !sawGraph {
		return nil, fmt.Errorf("%s: not an ONNX model: no graph", path)
	}
	return info, nil
}

func (s *seekStream) graph(end int64, info *ModelInfo) error {
	for s.pos < end {
		num, typ, val, err := s.field()
		if err != nil {
			return err
		}
		if typ != protowire.BytesType {
			continue
		}
		switch num {
		case graphInput, graphOutput:
			b, err := s.bytes(int64(val))
			if err != nil {
				return err
			}
			v, err := decodeValueInfo(b)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			if num == graphInput {
				info.Inputs = append(info.Inputs, v)
			} else {
				info.Outputs = append(info.Outputs, v)
			}
		case graphInitializer:
			t, err := s.tensorHeader(s.pos + int64(val))
			if err != nil {
				return fmt.Errorf("initializer: %w", err)
			}
			info.Initializers = append(info.Initializers, t)
		case graphNode:
			if val > 64<<20 {
				if err := s.skip(int64(val)); err != nil {
					return err
				}
				info.OpCounts["?"]++
				continue
			}
			b, err := s.bytes(int64(val))
			if err != nil {
				return err
			}
			op, err := decodeOpType(b)
			if err != nil {
				return fmt.Errorf("node: %w", err)
			}
			info.OpCounts[op]++
		default:
			if err := s.skip(int64(val)); err != nil {
				return err
			}
		}
	}
	if s.pos != end {
		return errors.New("field overruns the graph message")
	}
	return nil
}

func (s *seekStream) tensorHeader(end int64) (TensorInfo, error) {
	t := TensorInfo{ExternalLength: -1}
	for s.pos < end {
		num, typ, val, err := s.field()
		if err != nil {
			return t, err
		}
		switch {
		case num == tensorDims && typ == protowire.VarintType:
			t.Dims = append(t.Dims, int64(val))
		case num == tensorDims && typ == protowire.BytesType:
			b, err := s.bytes(int64(val))
			if err != nil {
				return t, err
			}
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return t, protowire.ParseError(n)
				}
				t.Dims = append(t.Dims, int64(v))
				b = b[n:]
			}
		case num == tensorDataType && typ == protowire.VarintType:
			t.Type = DataType(val)
		case num == tensorName && typ == protowire.BytesType:
			b, err := s.bytes(int64(val))
			if err != nil {
				return t, err
			}
			t.Name = string(b)
		case num == tensorExternalData && typ == protowire.BytesType:
			b, err := s.bytes(int64(val))
			if err != nil {
				return t, err
			}
			k, v, err := decodeEntry(b)
			if err != nil {
				return t, err
			}
			switch k {
			case "location":
				t.ExternalLocation = v
			case "offset", "length":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return t, fmt.Errorf("tensor %q: external_data %s=%q: %w", t.Name, k, v, err)
				}
				if k == "offset" {
					t.ExternalOffset = n
				} else {
					t.ExternalLength = n
				}
			}
		default:
			if err := s.skipValue(typ, val); err != nil {
				return t, err
			}
		}
	}
	if s.pos != end {
		return t, errors.New("field overruns the tensor message")
	}
	return t, nil
}

// forEach walks the fields of an in-memory message.
func forEach(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, bs); err != nil {
			return err
		}
	}
	return nil
}

func decodeOpset(b []byte) (OpsetID, error) {
	var o OpsetID
	err := forEach(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch num {
		case opsetDomain:
			o.Domain = string(bs)
		case opsetVersion:
			o.Version = int64(v)
		}
		return nil
	})
	return o, err
}

func decodeEntry(b []byte) (k, v string, err error) {
	err = forEach(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		switch num {
		case entryKey:
			k = string(bs)
		case entryValue:
			v = string(bs)
		}
		return nil
	})
	return k, v, err
}

func decodeOpType(b []byte) (string, error) {
	op := ""
	err := forEach(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		if num == nodeOpType && typ == protowire.BytesType {
			op = string(bs)
		}
		return nil
	})
	return op, err
}

func decodeValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := forEach(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		switch num {
		case valueName:
			vi.Name = string(bs)
		case valueType:
			return forEach(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
				if num != typeTensor {
					return nil
				}
				return forEach(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
					switch num {
					case typeTensorElem:
						vi.Type = DataType(v)
					case typeTensorShape:
						vi.Shape = []Dim{}
						return forEach(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
							if num != shapeDim {
								return nil
							}
							var d Dim
							err := forEach(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
								switch num {
								case dimValue:
									d.Value = int64(v)
								case dimParam:
									d.Param = string(bs)
								}
								return nil
							})
							vi.Shape = append(vi.Shape, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return vi, err
}
