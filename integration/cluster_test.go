package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/data/replication"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/search"
)

// startCluster starts a three-node weaviate-server cluster for this test or benchmark, stopped at
// cleanup; a failed test logs each node's last lines.
func startCluster(tb testing.TB, env ...string) *launcher.Cluster {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test (-short)")
	}
	bin := testenv.WeaviateBinary(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := launcher.StartCluster(ctx, 3, launcher.Options{Binary: bin, Env: env,
		LogFile: filepath.Join(tb.TempDir(), "weaviate.log")})
	if err != nil {
		tb.Fatalf("start 3-node cluster: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			for _, s := range cl.Nodes() {
				tb.Logf("--- %s (running=%v) ---\n%s", s.Hostname(), s.Running(), s.LogTail())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cl.Stop(ctx); err != nil {
			tb.Errorf("stop cluster: %v", err)
		}
	})
	return cl
}

// clusterConfig is the configuration of collection coll with 3 shards and replication factor 2,
// pointed at node i.
func clusterConfig(cl *launcher.Cluster, i int, coll, serviceURL string) config.Weaviate {
	w := weaviateConfig(cl.Node(i), coll)
	w.ServiceURL = serviceURL
	w.Sharding.DesiredCount = 3
	w.Replication.Factor = 2
	return w
}

func connectTB(tb testing.TB, w config.Weaviate) *weaviate.Client {
	tb.Helper()
	c, err := collection.Connect(w, true)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// createEverywhere creates the collection through the first client and waits until every node
// knows it: schema changes reach raft followers a moment after the leader commits, and a worker
// importing through a follower that has not seen the class yet would be refused.
func createEverywhere(tb testing.TB, ctx context.Context, clients []*weaviate.Client, spec collection.Spec) {
	tb.Helper()
	if _, err := collection.Ensure(ctx, clients[0], spec); err != nil {
		tb.Fatal(err)
	}
	for i, c := range clients {
		for {
			ok, err := c.Schema().ClassExistenceChecker().WithClassName(spec.Name).Do(ctx)
			if err == nil && ok {
				break
			}
			if ctx.Err() != nil {
				tb.Fatalf("node%d never saw collection %s: %v", i+1, spec.Name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// shardPlacement is, for each node, the shards of class it holds (the verbose /v1/nodes view) with
// their object counts. The counts cover flushed segments only, so they lag recent writes: tests
// check placement with it, and contents object by object.
func shardPlacement(ctx context.Context, c *weaviate.Client, class string) (map[string]map[string]int64, error) {
	resp, err := c.Cluster().NodesStatusGetter().WithClass(class).WithOutput("verbose").Do(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, n := range resp.Nodes {
		if n == nil {
			continue
		}
		out[n.Name] = map[string]int64{}
		for _, s := range n.Shards {
			if s != nil && s.Class == class {
				out[n.Name][s.Name] = s.ObjectCount
			}
		}
	}
	return out, nil
}

// waitNodeStatus waits until node observer reports node name with (or without) status HEALTHY.
func waitNodeStatus(t *testing.T, ctx context.Context, cl *launcher.Cluster, observer int, name string, healthy bool) {
	t.Helper()
	var last []launcher.NodeStatus
	for {
		st, err := cl.NodeStatuses(ctx, observer)
		if err == nil {
			last = st
			seen := false
			for _, n := range st {
				if n.Name == name && n.Status == "HEALTHY" {
					seen = true
				}
			}
			if seen == healthy {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node%d never saw %s healthy=%v (last view %+v)", observer+1, name, healthy, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hitIDs(hits []search.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.PassageID
	}
	return ids
}

// extraPassageIDs are the ids writeExtraCorpus writes.
func extraPassageIDs(n int) []string {
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("x%02d", i)
	}
	return ids
}

// A real three-node cluster (3 shards, replication factor 2) with text2vec-transformers on every
// node pointed at one real `xqg serve`: two shard workers ingest in parallel through different
// nodes; every passage is stored once and nearText agrees on every node; with a node down queries
// still answer and an ingest at consistency ONE completes (ONE is the level factor 2 always meets
// with a replica gone; Weaviate 1.35 resolves QUORUM over the replicas memberlist still lists, so
// QUORUM passes too once the node is declared dead, but not in the seconds before); once the node
// is back, reads at ALL through it return everything and repair its replicas, after which every
// object is on both replicas of its shard.
func TestClusterShardedIngestAndFailover(t *testing.T) {
	svc, cfg := startService(t, false)
	cl := startCluster(t,
		"ENABLE_MODULES=text2vec-transformers",
		"TRANSFORMERS_PASSAGE_INFERENCE_API="+svc.URL(),
		"TRANSFORMERS_QUERY_INFERENCE_API="+svc.URL(),
		"TRANSFORMERS_WAIT_FOR_STARTUP=false",
	)
	ctx := ctxT(t, 4*time.Minute)
	const coll = "ClusterPassages"
	const n = 48
	input := writeCorpus(t, n)

	ws := make([]config.Weaviate, 3)
	clients := make([]*weaviate.Client, 3)
	for i := range 3 {
		ws[i] = clusterConfig(cl, i, coll, svc.URL())
		clients[i] = connectTB(t, ws[i])
	}
	spec := collection.SpecFromConfig(ws[0])

	// Two shard workers in parallel, each with its own plugin process, through node1 and node2, as
	// the pods of an Indexed Job would: both find the collection missing and create it, through
	// different nodes at once.
	dir := t.TempDir()
	sums := make([]ingest.Summary, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		h := plugintest.Start(t, cfg, nil)
		wg.Go(func() {
			sums[i], errs[i] = ingest.Run(ctx, ingest.Options{Input: input, Client: clients[i], Spec: spec,
				Consistency: replication.ConsistencyLevel.QUORUM, Embedder: ingest.PluginEmbedder{V: h},
				BatchSize: 8, Shard: ingest.Shard{I: i, N: 2}, CheckpointDir: dir})
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("worker %d/2: %v", i, errs[i])
		}
		if sums[i].Imported == 0 || sums[i].Failed != 0 || sums[i].Imported+sums[i].OtherShard != n {
			t.Errorf("worker %d/2: %+v", i, sums[i])
		}
	}
	if got := sums[0].Imported + sums[1].Imported; got != n {
		t.Fatalf("workers imported %d+%d, want %d", sums[0].Imported, sums[1].Imported, n)
	}
	if sums[0].Created == sums[1].Created {
		t.Errorf("created by worker 0: %v, by worker 1: %v; want exactly one", sums[0].Created, sums[1].Created)
	}

	// Weaviate placed 3 shards × 2 replicas over the 3 nodes.
	placed, err := shardPlacement(ctx, clients[0], coll)
	if err != nil {
		t.Fatal(err)
	}
	shardNodes := map[string][]string{}
	for node, shards := range placed {
		for s := range shards {
			shardNodes[s] = append(shardNodes[s], node)
		}
	}
	if len(shardNodes) != 3 {
		t.Fatalf("want 3 shards, placement %v", placed)
	}
	for s, nodes := range shardNodes {
		if len(nodes) != 2 {
			t.Fatalf("shard %s on %v, want 2 replicas", s, nodes)
		}
	}
	for i, c := range clients {
		if got, err := search.Count(ctx, c, coll); err != nil || got != n {
			t.Errorf("count through node%d: %d %v, want %d", i+1, got, err, n)
		}
	}
	assertEachOnce(t, ctx, clients[2], coll, n)

	// nearText through each node: the query goes through that node's text2vec-transformers to the
	// service, and the cluster answers the same from whichever replicas it reads.
	queries := []string{corpusPassage(5).WeaviateText(), corpusPassage(30).WeaviateText()}
	wantTop := []string{"p005", "p030"}
	top := func(label string, c *weaviate.Client, q int, target string) []string {
		t.Helper()
		hits, err := search.Query(ctx, c, search.Request{Collection: coll, Text: queries[q], Target: target, K: 5})
		if err != nil {
			t.Fatalf("%s nearText on %s: %v", label, target, err)
		}
		if len(hits) != 5 || hits[0].PassageID != wantTop[q] {
			t.Errorf("%s nearText on %s: top %v, want %s first", label, target, hitIDs(hits), wantTop[q])
		}
		return hitIDs(hits)
	}
	ref := map[string][]string{}
	for q := range queries {
		for _, target := range []string{collection.VectorXQG, collection.VectorPassage} {
			key := fmt.Sprintf("%d/%s", q, target)
			for i, c := range clients {
				got := top(fmt.Sprintf("node%d", i+1), c, q, target)
				if i == 0 {
					ref[key] = got
				} else if !slices.Equal(got, ref[key]) {
					t.Errorf("query %s: node%d gives %v, node1 %v", key, i+1, got, ref[key])
				}
			}
		}
	}

	// node2 goes down.
	const down = 1
	if err := cl.StopNode(ctx, down); err != nil {
		t.Fatal(err)
	}
	waitNodeStatus(t, ctx, cl, 0, "node2", false)
	live := []int{0, 2}
	for q := range queries {
		for _, target := range []string{collection.VectorXQG, collection.VectorPassage} {
			key := fmt.Sprintf("%d/%s", q, target)
			for _, i := range live {
				if got := top(fmt.Sprintf("node%d with node2 down", i+1), clients[i], q, target); !slices.Equal(got, ref[key]) {
					t.Errorf("query %s with node2 down: node%d gives %v, before %v", key, i+1, got, ref[key])
				}
			}
		}
	}
	// Another part of the corpus arrives while node2 is down, written at ONE: the level that a
	// replication factor of 2 can always meet with one replica gone.
	const m = 18
	extra := writeExtraCorpus(t, m)
	one, err := ingest.Run(ctx, ingest.Options{Input: extra, Client: clients[2], Spec: spec,
		Consistency: replication.ConsistencyLevel.ONE, Embedder: ingest.PluginEmbedder{V: plugintest.Start(t, cfg, nil)},
		BatchSize: 6, CheckpointDir: t.TempDir()})
	if err != nil || one.Imported != m || one.Failed != 0 {
		t.Fatalf("ingest at ONE with node2 down: %+v %v", one, err)
	}
	ids := extraPassageIDs(m)
	for i := range n {
		ids = append(ids, fmt.Sprintf("p%03d", i))
	}
	for _, id := range ids {
		objs, err := clients[0].Data().ObjectsGetter().WithClassName(coll).WithID(ingest.ObjectID(id)).
			WithConsistencyLevel(replication.ConsistencyLevel.ONE).Do(ctx)
		if err != nil || len(objs) != 1 {
			t.Errorf("read %s through node1 at ONE with node2 down: %d objects, %v", id, len(objs), err)
		}
	}

	// node2 returns. Its replicas missed the writes made while it was down (async replication is off).
	if err := cl.StartNode(ctx, down); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitHealthy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	// holders are the nodes whose own replica has the object (GET ?node_name= reads that node's copy).
	holders := func(id string) []string {
		var on []string
		for i := range 3 {
			node := fmt.Sprintf("node%d", i+1)
			objs, err := clients[down].Data().ObjectsGetter().WithClassName(coll).WithID(ingest.ObjectID(id)).
				WithNodeName(node).Do(ctx)
			// A node without the object (or without its shard) answers 404.
			if err == nil && len(objs) == 1 {
				on = append(on, node)
			}
		}
		return on
	}
	stale := 0
	for _, id := range ids {
		if len(holders(id)) < 2 {
			stale++
		}
	}
	// Two thirds of the shards have a replica on node2, so some of the m objects written while it
	// was down must be missing there; otherwise the repair below would prove nothing.
	if stale == 0 {
		t.Fatalf("no object is missing a replica after node2 returned; the writes at ONE reached it?")
	}
	t.Logf("objects on only one replica after node2 returned: %d of %d", stale, len(ids))

	for _, id := range ids {
		objs, err := clients[down].Data().ObjectsGetter().WithClassName(coll).WithID(ingest.ObjectID(id)).
			WithConsistencyLevel(replication.ConsistencyLevel.ALL).Do(ctx)
		if err != nil || len(objs) != 1 {
			t.Errorf("read %s through node2 at ALL: %d objects, %v", id, len(objs), err)
			continue
		}
		if pid := objs[0].Properties.(map[string]any)[collection.PropPassageID]; pid != id {
			t.Errorf("read %s through node2 at ALL: passage_id %v", id, pid)
		}
	}
	// The reads at ALL repaired node2: every object is now on both replicas of its shard.
	for _, id := range ids {
		if on := holders(id); len(on) != 2 {
			t.Errorf("%s is on %v after the reads at ALL, want 2 replicas", id, on)
		}
	}
	if got, err := search.Count(ctx, clients[down], coll); err != nil || got != n+m {
		t.Errorf("count through node2 after it returned: %d %v, want %d", got, err, n+m)
	}
}
