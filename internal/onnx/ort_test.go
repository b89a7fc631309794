package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/xqg/xqg/internal/onnx"
)

// ortReady reports whether TestMain could load ONNX Runtime; tests that
// need it skip otherwise (fail under XQG_TEST_STRICT=1).
var ortReady error

func TestMain(m *testing.M) {
	ortReady = initORT()
	code := m.Run()
	if ortReady == nil {
		_ = ort.DestroyEnvironment()
	}
	os.Exit(code)
}

func initORT() error {
	lib := os.Getenv("XQG_ORT_LIBRARY")
	if lib == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		lib = filepath.Join(home, ".cache", "xqg", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("onnx runtime library: %w", err)
	}
	ort.SetSharedLibraryPath(lib)
	return ort.InitializeEnvironment()
}

func needORT(t *testing.T) {
	t.Helper()
	if ortReady == nil {
		return
	}
	if os.Getenv("XQG_TEST_STRICT") == "1" {
		t.Fatalf("ONNX Runtime unavailable: %v", ortReady)
	}
	t.Skipf("ONNX Runtime unavailable: %v", ortReady)
}

func TestWrittenModelRunsInORT(t *testing.T) {
	needORT(t)
	for _, external := range []bool{false, true} {
		t.Run(fmt.Sprintf("external=%v", external), func(t *testing.T) {
			b := onnx.NewBuilder("g")
			x := b.Input("x", onnx.Float, onnx.P("batch"), onnx.D(3))
			w := b.Initializer(&onnx.Tensor{Name: "w", Type: onnx.Float, Dims: []int64{3, 2},
				Raw: onnx.Float32Bytes([]float32{1, 2, 3, 4, 5, 6})})
			bias := b.ConstF32([]int64{2}, []float32{0.5, -0.5})
			y := b.Op("Add", []string{b.Op("MatMul", []string{x, w}), bias})
			// A scalar int64 derived from the shape exercises Shape/Gather.
			n := b.Op("Gather", []string{b.Op("Shape", []string{x}), b.ScalarI64(0)}, onnx.AttrInt("axis", 0))
			b.Output(y, "y", onnx.Float, onnx.P("batch"), onnx.D(2))
			b.Output(b.Op("Unsqueeze", []string{n, b.ConstI64(0)}), "n", onnx.Int64, onnx.D(1))
			path := filepath.Join(t.TempDir(), "m.onnx")
			if _, err := onnx.NewModel(b.G).WriteFile(path, onnx.WriteOptions{External: external, ExternalMinBytes: 8}); err != nil {
				t.Fatal(err)
			}
			s, err := ort.NewDynamicAdvancedSession(path, []string{"x"}, []string{"y", "n"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Destroy()
			in, _ := ort.NewTensor(ort.NewShape(2, 3), []float32{1, 0, 0, 0, 1, 1})
			defer in.Destroy()
			outs := []ort.Value{nil, nil}
			if err := s.Run([]ort.Value{in}, outs); err != nil {
				t.Fatal(err)
			}
			got := outs[0].(*ort.Tensor[float32]).GetData()
			want := []float32{1.5, 1.5, 8.5, 9.5}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("y = %v, want %v", got, want)
				}
			}
			if n := outs[1].(*ort.Tensor[int64]).GetData(); n[0] != 2 {
				t.Fatalf("n = %v", n)
			}
		})
	}
}
