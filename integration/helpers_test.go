// Package integration runs xqg against a real weaviate-server started natively by the launcher.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/search"
)

// One plain Weaviate (no vectorizer module) shared by the bring-your-own-vector tests; each test
// uses its own collection.
var (
	plainOnce sync.Once
	plainSrv  *launcher.Server
	plainErr  error
)

func TestMain(m *testing.M) {
	code := plugintest.Main(m) // removes the plugin binary it built, if it built one
	if plainSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = plainSrv.Stop(ctx)
		cancel()
	}
	os.Exit(code)
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
}

// plainWeaviate is the shared server without modules.
func plainWeaviate(t testing.TB) *launcher.Server {
	t.Helper()
	skipShort(t)
	bin := testenv.WeaviateBinary(t)
	plainOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		plainSrv, plainErr = launcher.Start(ctx, launcher.Options{Binary: bin})
	})
	if plainErr != nil {
		t.Fatalf("start weaviate: %v", plainErr)
	}
	return plainSrv
}

// ownWeaviate starts a server for this test only (one the test restarts or stops), stopped at cleanup.
func ownWeaviate(t testing.TB, env ...string) *launcher.Server {
	t.Helper()
	skipShort(t)
	bin := testenv.WeaviateBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := launcher.Start(ctx, launcher.Options{Binary: bin, Env: env})
	if err != nil {
		t.Fatalf("start weaviate: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop weaviate: %v", err)
		}
	})
	return srv
}

// weaviateConfig is the default configuration pointed at srv with a collection of its own.
func weaviateConfig(srv *launcher.Server, coll string) config.Weaviate {
	w := config.Defaults().Weaviate
	w.URL = srv.URL()
	w.GRPCAddress = srv.GRPCAddr()
	w.Collection = coll
	w.Timeout = 20 * time.Second
	w.HNSW = config.HNSW{EF: 64, EFConstruction: 96, MaxConnections: 24}
	return w
}

func connect(t testing.TB, w config.Weaviate, grpc bool) *weaviate.Client {
	t.Helper()
	c, err := collection.Connect(w, grpc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// hashEmbedder is a bring-your-own source of vectors for the tests that run without the plugin: a
// normalised bag of hashed words, so passages sharing words are near each other. The xqg vector
// differs from the passage vector by a fixed mix, as fusion would make it.
type hashEmbedder struct {
	dim   int
	mu    sync.Mutex
	calls int
	// before runs before every call with its number (from 1), e.g. to restart Weaviate mid-ingest.
	before func(call int)
}

func (h *hashEmbedder) vector(text string) []float32 {
	v := make([]float32, h.dim)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		f := fnv.New32a()
		f.Write([]byte(strings.Trim(w, ".,;:!?\"'()")))
		v[f.Sum32()%uint32(h.dim)]++
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0], n = 1, 1
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func (h *hashEmbedder) Embed(_ context.Context, ps []ingest.Passage) ([]ingest.Vectors, error) {
	h.mu.Lock()
	h.calls++
	call := h.calls
	h.mu.Unlock()
	if h.before != nil {
		h.before(call)
	}
	out := make([]ingest.Vectors, len(ps))
	for i, p := range ps {
		plain := h.vector(p.WeaviateText())
		x := make([]float32, len(plain))
		for j := range plain {
			x[j] = 0.99*plain[j] + 0.01*plain[(j+1)%len(plain)]
		}
		out[i] = ingest.Vectors{XQG: x, Passage: plain}
	}
	return out, nil
}

var topics = []string{"volcano lava eruption", "violin orchestra music", "glacier ice climate", "football match goal",
	"bread flour baking", "satellite orbit rocket", "honey bees flowers", "chess opening king"}

// writeCorpus writes n passages (ids p000…) as JSONL and returns the path.
func writeCorpus(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for i := range n {
		p := corpusPassage(i)
		rec := map[string]any{"id": p.ID, "title": p.Title, "text": p.Text, "source": "synthetic", "n": i}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// corpusPassage is passage i of writeCorpus.
func corpusPassage(i int) ingest.Passage {
	return ingest.Passage{ID: fmt.Sprintf("p%03d", i), Title: fmt.Sprintf("Topic %d", i%len(topics)),
		Text: fmt.Sprintf("Passage %d is about %s and number %d.", i, topics[i%len(topics)], i)}
}

// assertEachOnce checks every passage id is present exactly once.
func assertEachOnce(t *testing.T, ctx context.Context, c *weaviate.Client, coll string, n int) {
	t.Helper()
	got, err := search.Count(ctx, c, coll)
	if err != nil {
		t.Fatal(err)
	}
	if got != int64(n) {
		t.Errorf("%s holds %d objects, want %d", coll, got, n)
	}
	for i := range n {
		id := fmt.Sprintf("p%03d", i)
		objs, err := c.Data().ObjectsGetter().WithClassName(coll).WithID(ingest.ObjectID(id)).Do(ctx)
		if err != nil || len(objs) != 1 {
			t.Errorf("passage %s: %d objects, err %v", id, len(objs), err)
			continue
		}
		if pid := objs[0].Properties.(map[string]any)[collection.PropPassageID]; pid != id {
			t.Errorf("object %s has passage_id %v, want %s", objs[0].ID, pid, id)
		}
	}
}
