package launcher

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func createClass(t *testing.T, s *Server, name string) {
	t.Helper()
	body := `{"class":"` + name + `","vectorizer":"none"}`
	resp, err := http.Post(s.URL()+"/v1/schema", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create class %s on %s: status %d", name, s.Hostname(), resp.StatusCode)
	}
}

// eventuallyStatus polls until GET url returns want: schema changes reach followers shortly after the leader commits.
func eventuallyStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got int
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			got = resp.StatusCode
			resp.Body.Close()
			if got == want {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("GET %s: status %d, want %d", url, got, want)
}

func TestClusterThreeNodes(t *testing.T) {
	bin := realBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, 3, Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop(stopCtx(t))
		}
	})

	seen := map[int]bool{}
	for i, s := range c.Nodes() {
		if s.Hostname() != []string{"node1", "node2", "node3"}[i] {
			t.Errorf("node %d hostname %s", i, s.Hostname())
		}
		p := s.Ports()
		for _, port := range []int{p.HTTP, p.GRPC, p.Gossip, p.Data, p.Raft, p.RaftRPC} {
			if seen[port] {
				t.Errorf("port %d used twice", port)
			}
			seen[port] = true
		}
		st, err := c.NodeStatuses(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		healthy := 0
		for _, n := range st {
			if n.Status == "HEALTHY" {
				healthy++
			}
		}
		if len(st) != 3 || healthy != 3 {
			t.Errorf("%s sees %+v, want 3 HEALTHY nodes", s.Hostname(), st)
		}
	}

	// The schema is raft-replicated: a class made on node1 appears on node3.
	createClass(t, c.Node(0), "ClusterProbe")
	eventuallyStatus(t, c.Node(2).URL()+"/v1/schema/ClusterProbe", http.StatusOK)

	// One node down: the others still answer and still have a raft quorum for schema changes.
	if err := c.StopNode(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if c.Node(2).Running() {
		t.Fatal("node3 still running after StopNode")
	}
	for _, s := range c.Nodes()[:2] {
		eventuallyStatus(t, s.URL()+"/v1/schema/ClusterProbe", http.StatusOK)
	}
	createClass(t, c.Node(1), "WhileNode3Down")

	// Back again: it rejoins and catches up on what it missed.
	if err := c.StartNode(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	eventuallyStatus(t, c.Node(2).URL()+"/v1/schema/WhileNode3Down", http.StatusOK)

	var pids []int
	for _, s := range c.Nodes() {
		pids = append(pids, s.Pid())
	}
	root := c.root
	if err := c.Stop(stopCtx(t)); err != nil {
		t.Fatal(err)
	}
	stopped = true
	for _, pid := range pids {
		assertGone(t, pid)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("cluster data folder %s not removed", root)
	}
}

func TestClusterRejectsBadOptions(t *testing.T) {
	for _, tt := range []struct {
		n    int
		opts Options
		want string
	}{
		{0, Options{Binary: "/bin/true"}, "cluster size must be at least 1"},
		{3, Options{Binary: "/bin/true", Ports: Ports{HTTP: 8080}}, "leave Options.Ports zero"},
	} {
		if _, err := StartCluster(t.Context(), tt.n, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartCluster(%d, %+v): %v, want %q", tt.n, tt.opts.Ports, err, tt.want)
		}
	}
}
