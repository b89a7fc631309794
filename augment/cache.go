package augment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/xqg/xqg/internal/cachedir"
)

// Queries are generated questions by language code, in generation order.
type Queries map[string][]string

// Count is the number of queries over all languages.
func (q Queries) Count() int {
	n := 0
	for _, l := range q {
		n += len(l)
	}
	return n
}

// CacheKey is everything that determines a passage's generated queries. Changing any field
// (another model, template, sampling setting or seed) is a different entry.
type CacheKey struct {
	Model        string   `json:"model"`
	Template     string   `json:"template"`
	Title        string   `json:"title"`
	Text         string   `json:"text"`
	Languages    []string `json:"languages"`
	N            int      `json:"n"`
	Strategy     string   `json:"strategy"`
	TopK         int      `json:"top_k"`
	Temperature  float64  `json:"temperature"`
	NumBeams     int      `json:"num_beams"`
	MaxNewTokens int      `json:"max_new_tokens"`
	Seed         int64    `json:"seed"`
}

// Hash is the hex sha256 of the key's canonical JSON (struct field order is fixed).
func (k CacheKey) Hash() string {
	b, _ := json.Marshal(k) // a struct of strings and numbers always marshals
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// DefaultCacheDir is <cachedir>/queries, used when cache.dir is empty.
func DefaultCacheDir() string { return cachedir.Sub("queries") }

// QueriesDir is where the query cache lives inside the cache folder cache.dir ("" = the default folder).
func QueriesDir(cacheDir string) string {
	if cacheDir == "" {
		return DefaultCacheDir()
	}
	return filepath.Join(cacheDir, "queries")
}

// QueryCache stores one JSON file per entry, <dir>/<hash[:2]>/<hash>.json. Writes go to a temporary
// file renamed into place, so concurrent writers and readers (goroutines or processes) only ever
// see complete entries; two writers of one key write the same content and the last rename wins.
type QueryCache struct {
	dir string
}

type cacheEntry struct {
	Key     CacheKey `json:"key"`
	Queries Queries  `json:"queries"`
}

// OpenCache creates dir if needed ("" means DefaultCacheDir).
func OpenCache(dir string) (*QueryCache, error) {
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("query cache: %w", err)
	}
	return &QueryCache{dir: dir}, nil
}

// Dir is the cache folder.
func (c *QueryCache) Dir() string { return c.dir }

func (c *QueryCache) path(hash string) string {
	return filepath.Join(c.dir, hash[:2], hash+".json")
}

// Get returns the cached queries for k. An unreadable, corrupt or mismatching entry is logged,
// removed and reported as a miss, so the caller regenerates it: the cache is never fatal.
func (c *QueryCache) Get(k CacheKey) (Queries, bool) {
	p := c.path(k.Hash())
	b, err := os.ReadFile(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			slog.Warn("query cache: unreadable entry ignored", "path", p, "err", err)
		}
		return nil, false
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || !sameKey(e.Key, k) || !complete(e.Queries, k) {
		if err == nil {
			err = errors.New("entry does not match its key")
		}
		slog.Warn("query cache: corrupt entry removed", "path", p, "err", err)
		_ = os.Remove(p)
		return nil, false
	}
	return e.Queries, true
}

// Put stores q under k.
func (c *QueryCache) Put(k CacheKey, q Queries) error {
	p := c.path(k.Hash())
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("query cache: %w", err)
	}
	b, err := json.Marshal(cacheEntry{Key: k, Queries: q})
	if err != nil {
		return fmt.Errorf("query cache: encode entry: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("query cache: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("query cache: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("query cache: %w", err)
	}
	return nil
}

func sameKey(a, b CacheKey) bool {
	return a.Hash() == b.Hash() && slices.Equal(a.Languages, b.Languages)
}

// complete checks that an entry has the languages its key asks for, which a truncated or
// hand-edited file may not.
func complete(q Queries, k CacheKey) bool {
	for _, l := range k.Languages {
		if _, ok := q[l]; !ok {
			return false
		}
	}
	return true
}
