package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Cluster is n weaviate-server nodes on one host forming one Weaviate cluster (memberlist for
// membership, raft for the schema), named node1..nodeN.
type Cluster struct {
	nodes   []*Server
	root    string
	ownRoot bool
	timeout time.Duration
}

// StartCluster starts n nodes and returns once every node is ready and node1 sees all n as
// HEALTHY. opts applies to every node except: Ports must be zero (each node gets its own free
// ports), Hostname is nodeK, DataDir (if set) is the parent of the per-node folders nodeK, and
// LogFile (if set) gets a "-nodeK" suffix before its extension.
func StartCluster(ctx context.Context, n int, opts Options) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("launcher: cluster size must be at least 1, got %d", n)
	}
	if opts.Ports != (Ports{}) {
		return nil, errors.New("launcher: a cluster picks its own ports; leave Options.Ports zero")
	}
	c := &Cluster{root: opts.DataDir}
	if c.root == "" {
		d, err := os.MkdirTemp("", "xqg-weaviate-cluster-")
		if err != nil {
			return nil, fmt.Errorf("launcher: create cluster data folder: %w", err)
		}
		c.root, c.ownRoot = d, true
	}
	for i := range n {
		o := opts
		o.Hostname = fmt.Sprintf("node%d", i+1)
		o.DataDir = filepath.Join(c.root, o.Hostname)
		if opts.LogFile != "" {
			ext := filepath.Ext(opts.LogFile)
			o.LogFile = strings.TrimSuffix(opts.LogFile, ext) + "-" + o.Hostname + ext
		}
		o.cluster = &clusterEnv{size: n}
		me := i
		o.cluster.join = func() string { return c.runningGossipAddrs(me) }
		s, err := newServer(o)
		if err != nil {
			c.cleanup()
			return nil, err
		}
		c.nodes = append(c.nodes, s)
	}
	c.timeout = c.nodes[0].opts.StartTimeout

	for attempt := 1; ; attempt++ {
		err := c.pickPorts()
		if err == nil {
			err = c.launchAll(ctx)
		}
		if err == nil {
			return c, nil
		}
		var se *StartError
		if attempt < startAttempts && errors.As(err, &se) && se.PortConflict && ctx.Err() == nil {
			continue
		}
		c.cleanup()
		return nil, err
	}
}

func (c *Cluster) pickPorts() error {
	var pp portPicker
	defer pp.release()
	joins := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		p, err := pickPorts(&pp, Ports{}, true)
		if err != nil {
			return err
		}
		s.ports = p
		joins[i] = fmt.Sprintf("%s:%d", s.opts.Hostname, p.Raft)
	}
	for _, s := range c.nodes {
		s.opts.cluster.raftJoin = strings.Join(joins, ",")
	}
	return nil
}

// runningGossipAddrs is CLUSTER_JOIN for node skip: memberlist fails the start if it can reach no
// join address at all, so only nodes that are up are listed (none for the very first node).
func (c *Cluster) runningGossipAddrs(skip int) string {
	var addrs []string
	for i, s := range c.nodes {
		if i != skip && s.Running() {
			addrs = append(addrs, s.GossipAddr())
		}
	}
	return strings.Join(addrs, ",")
}

func (c *Cluster) launchAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	fail := func(err error) error {
		c.haltAll()
		return err
	}
	// node1 first, and the others only once its gossip port answers, so that their join succeeds.
	seed := c.nodes[0]
	if err := seed.spawn(); err != nil {
		return fail(err)
	}
	if err := c.waitGossip(ctx, seed); err != nil {
		return fail(err)
	}
	for _, s := range c.nodes[1:] {
		if err := s.spawn(); err != nil {
			return fail(err)
		}
	}
	// Readiness needs the raft quorum, so all nodes are waited for together; the first failure
	// cancels the other waits, and is the one reported.
	readyCtx, cancelReady := context.WithCancel(ctx)
	defer cancelReady()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for _, s := range c.nodes {
		wg.Go(func() {
			err := s.waitReady(readyCtx)
			if err == nil {
				return
			}
			mu.Lock()
			var se *StartError
			if first == nil || (errors.As(err, &se) && se.PortConflict) {
				first = err
			}
			mu.Unlock()
			cancelReady()
		})
	}
	wg.Wait()
	if first != nil {
		return fail(first)
	}
	if err := c.WaitHealthy(ctx, len(c.nodes)); err != nil {
		return fail(err)
	}
	return nil
}

func (c *Cluster) waitGossip(ctx context.Context, s *Server) error {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	for {
		conn, err := net.DialTimeout("tcp", s.GossipAddr(), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return s.startFailure("gossip port never opened", ctx.Err())
		case <-proc.Done():
			return s.startFailure("exited during start", proc.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// NodeStatus is one entry of GET /v1/nodes.
type NodeStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Version string `json:"version"`
}

// NodeStatuses asks node i for the cluster's view (GET /v1/nodes).
func (c *Cluster) NodeStatuses(ctx context.Context, i int) ([]NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.nodes[i].URL()+"/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/v1/nodes: status %d", c.nodes[i].URL(), resp.StatusCode)
	}
	var body struct {
		Nodes []NodeStatus `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET %s/v1/nodes: decode: %w", c.nodes[i].URL(), err)
	}
	return body.Nodes, nil
}

// WaitHealthy waits until some running node reports at least want HEALTHY nodes.
func (c *Cluster) WaitHealthy(ctx context.Context, want int) error {
	var last string
	for {
		for i, s := range c.nodes {
			if !s.Running() {
				continue
			}
			st, err := c.NodeStatuses(ctx, i)
			if err != nil {
				last = err.Error()
				continue
			}
			healthy := 0
			for _, n := range st {
				if n.Status == "HEALTHY" {
					healthy++
				}
			}
			if healthy >= want {
				return nil
			}
			last = fmt.Sprintf("%s sees %+v", s.Hostname(), st)
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("launcher: cluster not %d nodes healthy (last: %s): %w", want, last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Nodes returns the nodes, node1 first.
func (c *Cluster) Nodes() []*Server { return c.nodes }

// Node returns node i (0-based: Node(0) is node1).
func (c *Cluster) Node(i int) *Server { return c.nodes[i] }

// StopNode stops node i, keeping its data and ports for StartNode.
func (c *Cluster) StopNode(ctx context.Context, i int) error { return c.nodes[i].halt(ctx) }

// StartNode starts a stopped node i again (same ports and data), joining the nodes that run,
// and waits until it is ready.
func (c *Cluster) StartNode(ctx context.Context, i int) error {
	return c.nodes[i].launch(ctx)
}

// Stop stops every node and removes the data folders the launcher created.
func (c *Cluster) Stop(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, s := range c.nodes {
		wg.Go(func() { errs[i] = s.halt(ctx) })
	}
	wg.Wait()
	c.cleanup()
	return errors.Join(errs...)
}

func (c *Cluster) haltAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range c.nodes {
		wg.Go(func() { _ = s.halt(ctx) })
	}
	wg.Wait()
}

func (c *Cluster) cleanup() {
	for _, s := range c.nodes {
		s.cleanup()
	}
	if c.ownRoot {
		_ = os.RemoveAll(c.root)
	}
}
