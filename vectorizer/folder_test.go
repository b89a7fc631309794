package vectorizer

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHashFilesMemoFollowsContent(t *testing.T) {
	t.Setenv("XQG_CACHE_DIR", t.TempDir())
	defer func(n int64) { memoMinSize = n }(memoMinSize)
	memoMinSize = 0
	dir := t.TempDir()
	a := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(a, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	h1, err := HashFiles(a, a+"_data")
	if err != nil {
		t.Fatal(err)
	}
	// sha256("one")
	if h1 != "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed" {
		t.Fatalf("hash %s", h1)
	}
	if h, _ := HashFiles(a, a+"_data"); h != h1 {
		t.Fatal("memoised hash differs")
	}
	if m, _ := filepath.Glob(filepath.Join(os.Getenv("XQG_CACHE_DIR"), "model-ids", "*")); len(m) != 1 {
		t.Fatalf("memo files %v, want one", m)
	}
	if err := os.WriteFile(a, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(a, future, future)
	if h, _ := HashFiles(a, a+"_data"); h == h1 {
		t.Fatal("changed file kept the old hash")
	}
}
