package augment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

func testKey() CacheKey {
	return CacheKey{Model: "m@abc", Template: "t {passage}", Title: "T", Text: "passage text",
		Languages: []string{"ar", "fi"}, N: 2, Strategy: "sample", TopK: 10, Temperature: 1,
		NumBeams: 4, MaxNewTokens: 32, Seed: 42}
}

func TestCacheKeyHashCoversEveryField(t *testing.T) {
	base := testKey()
	seen := map[string]string{base.Hash(): "base"}
	mutations := map[string]func(*CacheKey){
		"model":     func(k *CacheKey) { k.Model = "m@def" },
		"template":  func(k *CacheKey) { k.Template = "u {passage}" },
		"title":     func(k *CacheKey) { k.Title = "U" },
		"text":      func(k *CacheKey) { k.Text = "other" },
		"languages": func(k *CacheKey) { k.Languages = []string{"fi", "ar"} },
		"n":         func(k *CacheKey) { k.N = 3 },
		"strategy":  func(k *CacheKey) { k.Strategy = "greedy" },
		"top_k":     func(k *CacheKey) { k.TopK = 5 },
		"temp":      func(k *CacheKey) { k.Temperature = 0.7 },
		"beams":     func(k *CacheKey) { k.NumBeams = 2 },
		"max_new":   func(k *CacheKey) { k.MaxNewTokens = 16 },
		"seed":      func(k *CacheKey) { k.Seed = 7 },
	}
	for name, mut := range mutations {
		k := testKey()
		mut(&k)
		h := k.Hash()
		if prev, ok := seen[h]; ok {
			t.Fatalf("changing %s gives the same hash as %s", name, prev)
		}
		seen[h] = name
	}
}

func TestCacheRoundTripAndCorruption(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := testKey()
	if _, ok := c.Get(k); ok {
		t.Fatal("hit on an empty cache")
	}
	q := Queries{"ar": {"a1", "a2"}, "fi": {"f1", "f2"}}
	if err := c.Put(k, q); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || !reflect.DeepEqual(got, q) {
		t.Fatalf("Get = %v, %v; want %v", got, ok, q)
	}
	corruptions := map[string]string{
		"truncated":    `{"key":{"model":`,
		"other key":    `{"key":{"model":"x"},"queries":{"ar":[],"fi":[]}}`,
		"missing lang": fmt.Sprintf(`{"key":%s,"queries":{"ar":["a"]}}`, mustJSON(t, k)),
		"not json":     "\x00\x01garbage",
	}
	for name, content := range corruptions {
		t.Run(name, func(t *testing.T) {
			p := c.path(k.Hash())
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(k); ok {
				t.Fatal("corrupt entry reported as a hit")
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Fatalf("corrupt entry not removed: %v", err)
			}
		})
	}
}

func TestCacheConcurrentWriters(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := testKey()
			k.Seed = int64(i % 4) // four keys, four writers each
			q := Queries{"ar": {fmt.Sprint("q", i%4)}, "fi": {"f"}}
			if err := c.Put(k, q); err != nil {
				t.Error(err)
			}
			if got, ok := c.Get(k); !ok || got["ar"][0] != q["ar"][0] {
				t.Errorf("writer %d read %v, %v", i, got, ok)
			}
		}()
	}
	wg.Wait()
	tmps, _ := filepath.Glob(filepath.Join(c.Dir(), "*", ".tmp-*"))
	if len(tmps) != 0 {
		t.Fatalf("temporary files left behind: %v", tmps)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQueriesDirIsInsideTheCacheFolder(t *testing.T) {
	t.Setenv("XQG_CACHE_DIR", "/var/cache/xqg")
	tests := []struct{ cacheDir, want string }{
		{"", "/var/cache/xqg/queries"},
		{"/data/xqg", "/data/xqg/queries"},
	}
	for _, tt := range tests {
		if got := QueriesDir(tt.cacheDir); got != tt.want {
			t.Errorf("QueriesDir(%q) = %q, want %q", tt.cacheDir, got, tt.want)
		}
	}
}
