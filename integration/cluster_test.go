package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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

// replicaCounts is, for each node, the object count of each shard of class it holds (the verbose
// /v1/nodes view: what is stored on that node, not what a coordinated read returns).
func replicaCounts(ctx context.Context, c *weaviate.Client, class string) (map[string]map[string]int64, error) {
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
// still answer and an ingest at consistency ONE completes (QUORUM cannot: for factor 2 it needs
// both replicas); once the node is back, reads at ALL through it return everything and repair its
// replicas, which then hold as many objects as their peers.
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
	createEverywhere(t, ctx, clients, spec)

	// Weaviate placed 3 shards × 2 replicas over the 3 nodes.
	placed, err := replicaCounts(ctx, clients[0], coll)
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

	// Two shard workers in parallel, each with its own plugin process, through node1 and node2.
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
	if got, err := search.Count(ctx, clients[0], coll); err != nil || got != n {
		t.Errorf("count with node2 down: %d %v, want %d", got, err, n)
	}

	// Another part of the corpus arrives while node2 is down. QUORUM (2 of 2 replicas) refuses the
	// objects of the two shards with a replica on node2; ONE writes everything.
	const m = 18
	extra := writeExtraCorpus(t, m)
	quorum, err := ingest.Run(ctx, ingest.Options{Input: extra, Client: clients[2], Spec: spec,
		Consistency: replication.ConsistencyLevel.QUORUM, Embedder: ingest.PluginEmbedder{V: plugintest.Start(t, cfg, nil)},
		BatchSize: 6, CheckpointDir: t.TempDir(), Retries: -1, ObjectRetries: -1})
	if err != nil || quorum.Failed == 0 || quorum.Imported+quorum.Failed != m {
		t.Errorf("ingest at QUORUM with node2 down: %+v %v; want some objects refused", quorum, err)
	}
	one, err := ingest.Run(ctx, ingest.Options{Input: extra, Client: clients[2], Spec: spec,
		Consistency: replication.ConsistencyLevel.ONE, Embedder: ingest.PluginEmbedder{V: plugintest.Start(t, cfg, nil)},
		BatchSize: 6, CheckpointDir: t.TempDir()})
	if err != nil || one.Imported != m || one.Failed != 0 {
		t.Fatalf("ingest at ONE with node2 down: %+v %v", one, err)
	}
	if got, err := search.Count(ctx, clients[0], coll); err != nil || got != n+m {
		t.Errorf("count after the ingest at ONE: %d %v, want %d", got, err, n+m)
	}

	// node2 returns. Its replicas missed the writes at ONE until something repairs them.
	if err := cl.StartNode(ctx, down); err != nil {
		t.Fatal(err)
	}
	if err := cl.WaitHealthy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	stale, err := replicaCounts(ctx, clients[down], coll)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica object counts after node2 returned: %v", stale)

	ids := extraPassageIDs(m)
	for i := range n {
		ids = append(ids, fmt.Sprintf("p%03d", i))
	}
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
	// Every replica now holds its shard whole: both replicas of each shard count the same, and the
	// shards add up to the corpus.
	deadline := time.Now().Add(20 * time.Second)
	var counts map[string]map[string]int64
	var problems []string
	for {
		if counts, err = replicaCounts(ctx, clients[down], coll); err != nil {
			t.Fatal(err)
		}
		problems = replicaProblems(counts, n+m)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(problems) > 0 {
		t.Errorf("replicas after the reads at ALL: %s (counts %v)", strings.Join(problems, "; "), counts)
	}
}

// replicaProblems checks per-node shard counts: 3 shards on 2 nodes each, equal across replicas,
// summing (one replica per shard) to want.
func replicaProblems(counts map[string]map[string]int64, want int) []string {
	byShard := map[string]map[string]int64{}
	for node, shards := range counts {
		for s, c := range shards {
			if byShard[s] == nil {
				byShard[s] = map[string]int64{}
			}
			byShard[s][node] = c
		}
	}
	var problems []string
	var total int64
	for s, nodes := range byShard {
		var vals []int64
		for _, c := range nodes {
			vals = append(vals, c)
		}
		if len(vals) != 2 || vals[0] != vals[1] {
			problems = append(problems, fmt.Sprintf("shard %s replicas %v", s, nodes))
		}
		if len(vals) > 0 {
			total += slices.Max(vals)
		}
	}
	if len(byShard) != 3 {
		problems = append(problems, fmt.Sprintf("%d shards, want 3", len(byShard)))
	}
	if total != int64(want) {
		problems = append(problems, fmt.Sprintf("shards hold %d objects, want %d", total, want))
	}
	return problems
}
