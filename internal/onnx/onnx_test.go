package onnx

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func smallModel() *Model {
	b := NewBuilder("g")
	x := b.Input("x", Float, P("batch"), D(3))
	w := b.Initializer(&Tensor{Name: "w", Type: Float, Dims: []int64{3, 2}, Raw: Float32Bytes([]float32{1, 2, 3, 4, 5, 6})})
	bias := b.ConstF32([]int64{2}, []float32{0.5, -0.5})
	y := b.Op("Add", []string{b.Op("MatMul", []string{x, w}), bias})
	b.Output(y, "y", Float, P("batch"), D(2))
	return NewModel(b.G)
}

func TestWriteReadInfoRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		opts WriteOptions
		ext  bool
	}{
		{"inline", WriteOptions{}, false},
		{"external", WriteOptions{External: true, ExternalMinBytes: 16}, true},
		{"auto-external", WriteOptions{AutoExternalAbove: 10, ExternalMinBytes: 16}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.onnx")
			data, err := smallModel().WriteFile(path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if (data != "") != tc.ext {
				t.Fatalf("external data path %q, want external=%v", data, tc.ext)
			}
			info, err := ReadInfo(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.IRVersion != DefaultIRVersion || len(info.Opsets) != 1 || info.Opsets[0].Version != DefaultOpset {
				t.Errorf("ir %d opsets %v", info.IRVersion, info.Opsets)
			}
			wantIn := []ValueInfo{{Name: "x", Type: Float, Shape: []Dim{P("batch"), D(3)}}}
			wantOut := []ValueInfo{{Name: "y", Type: Float, Shape: []Dim{P("batch"), D(2)}}}
			if !reflect.DeepEqual(info.Inputs, wantIn) || !reflect.DeepEqual(info.Outputs, wantOut) {
				t.Errorf("inputs %+v outputs %+v", info.Inputs, info.Outputs)
			}
			if info.OpCounts["MatMul"] != 1 || info.OpCounts["Add"] != 1 || info.OpCounts["Identity"] != 1 {
				t.Errorf("op counts %v", info.OpCounts)
			}
			var w *TensorInfo
			for i := range info.Initializers {
				if info.Initializers[i].Name == "w" {
					w = &info.Initializers[i]
				}
			}
			if w == nil || !reflect.DeepEqual(w.Dims, []int64{3, 2}) || w.Type != Float {
				t.Fatalf("initializer w: %+v", w)
			}
			if tc.ext {
				if w.ExternalLocation != "m.onnx_data" || w.ExternalLength != 24 {
					t.Errorf("external ref %+v", w)
				}
				st, err := os.Stat(data)
				if err != nil || st.Size() < w.ExternalOffset+w.ExternalLength {
					t.Errorf("data file %v %v", st, err)
				}
			} else if w.ExternalLocation != "" {
				t.Errorf("unexpected external ref %+v", w)
			}
		})
	}
}

func TestReadInfoRejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	good, err := Encode(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     {},
		"text":      []byte("{\"not\": \"onnx\"}"),
		"truncated": good[:len(good)-7],
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".onnx")
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadInfo(p); err == nil {
				t.Fatalf("ReadInfo accepted %s", name)
			}
		})
	}
}

func TestStreamLengthChecked(t *testing.T) {
	b := NewBuilder("g")
	x := b.Input("x", Float, D(4))
	w := b.Initializer(&Tensor{Name: "w", Type: Float, Dims: []int64{4}, Stream: func(w io.Writer) error {
		_, err := w.Write(make([]byte, 12))
		return err
	}})
	b.Output(b.Op("Add", []string{x, w}), "y", Float, D(4))
	_, err := NewModel(b.G).WriteFile(filepath.Join(t.TempDir(), "m.onnx"), WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), `tensor "w"`) {
		t.Fatalf("short stream not reported: %v", err)
	}
}
