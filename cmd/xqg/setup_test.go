package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/internal/testenv"
)

func TestSetupCmd(t *testing.T) {
	lib, bin := testenv.ORTLibrary(t), testenv.WeaviateBinary(t)
	t.Setenv("XQG_CONFIG", "")
	t.Setenv("XQG_CACHE_DIR", t.TempDir()) // nothing cached: only the given paths may be used
	tests := []struct {
		name     string
		lib, bin string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"given paths", lib, bin, nil, 0, []string{"onnxruntime library: " + lib, "weaviate-server:     " + bin}},
		{"config key wins", "/nowhere/libonnxruntime.so.1", bin, []string{"--set", "ort.library_path=" + lib, "--skip-weaviate"}, 0,
			[]string{"onnxruntime library: " + lib}},
		{"missing library", filepath.Join(t.TempDir(), "libonnxruntime.so.1"), bin, []string{"--skip-weaviate"}, 1, nil},
		{"bad weaviate binary", lib, lib, []string{"--skip-onnxruntime"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XQG_ORT_LIBRARY", tt.lib)
			t.Setenv("XQG_WEAVIATE_BIN", tt.bin)
			var out bytes.Buffer
			root := newRootCmd()
			root.SetOut(&out)
			root.SetErr(&bytes.Buffer{})
			root.SetArgs(append([]string{"setup"}, tt.args...))
			err := root.Execute()
			if (err == nil) != (tt.wantCode == 0) {
				t.Fatalf("err = %v, want exit %d", err, tt.wantCode)
			}
			if code := run(append([]string{"setup"}, tt.args...)); code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, out.String())
				}
			}
		})
	}
}
