package tinymodels

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestEnsureConcurrentAndDeterministic(t *testing.T) {
	cache := t.TempDir()
	var wg sync.WaitGroup
	encs := make([]string, 3)
	errs := make([]error, 3)
	for i := range encs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			encs[i], _, errs[i] = Ensure(cache)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Ensure #%d: %v", i, err)
		}
		if encs[i] != encs[0] {
			t.Fatalf("Ensure returned %q and %q", encs[i], encs[0])
		}
	}
	enc, s2s, err := Ensure(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(enc, "model.onnx"), filepath.Join(enc, "tokenizer.json"),
		filepath.Join(s2s, EncoderFile), filepath.Join(s2s, DecoderMergedFile), filepath.Join(s2s, "tokenizer.json")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(cache, "tinymodels", "*.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary folders left behind: %v", left)
	}

	// A fresh write gives the same bytes, so Version can key the cache.
	again := t.TempDir()
	if err := WriteSeq2Seq(again, TinySeq2Seq); err != nil {
		t.Fatal(err)
	}
	if err := WriteEncoder(filepath.Join(again, "enc"), TinyEncoder); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{
		{filepath.Join(s2s, DecoderMergedFile), filepath.Join(again, DecoderMergedFile)},
		{filepath.Join(s2s, "tokenizer.json"), filepath.Join(again, "tokenizer.json")},
		{filepath.Join(enc, "model.onnx"), filepath.Join(again, "enc", "model.onnx")},
	} {
		a, err1 := os.ReadFile(pair[0])
		b, err2 := os.ReadFile(pair[1])
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: not byte-identical across writes (%v %v)", filepath.Base(pair[0]), err1, err2)
		}
	}
}

func TestEnsureReplacesIncompleteFolder(t *testing.T) {
	cache := t.TempDir()
	stale := filepath.Join(cache, "tinymodels", Version, "encoder")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	enc, _, err := Ensure(cache)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(enc, "model.onnx")); err != nil {
		t.Fatalf("incomplete folder not replaced: %v", err)
	}
	dir, err := EnsureShape(cache, TinyEncoder)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := Check(dir); err != nil || r.Err() != nil {
		t.Fatalf("EnsureShape folder: %v %v", err, r.Err())
	}
}
