package plugin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/xqg/xqg/plugin/proto"
)

// ConfigureFunc builds a backend from the host's configuration (see BackendConfig). It runs in
// the plugin process when the host's Configure call arrives. If the returned Vectorizer is also
// an io.Closer it is closed when the plugin shuts down.
type ConfigureFunc func(ctx context.Context, cfg BackendConfig) (Vectorizer, error)

// GRPCPlugin is the go-plugin Plugin of the contract. The host uses it with a nil Configure.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Configure ConfigureFunc
	srv       *server
}

var _ goplugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the service (plugin side).
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.Configure == nil {
		return errors.New("plugin: GRPCPlugin.Configure is nil")
	}
	p.srv = &server{configure: p.Configure}
	pb.RegisterVectorizerServer(s, p.srv)
	return nil
}

// GRPCClient wraps the connection (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return &Client{rpc: pb.NewVectorizerClient(cc)}, nil
}

// DialOptions are the host's gRPC options: big messages for big batches.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize))}
}

// ServeOptions configure Serve.
type ServeOptions struct {
	Configure ConfigureFunc
	// Logger defaults to PluginLogger("xqg-vectorizer").
	Logger hclog.Logger
}

// Serve runs the plugin side of the contract until the host closes it. It refuses to run when
// not started by a host (go-plugin's magic cookie check) and exits the process then.
func Serve(opts ServeOptions) {
	if opts.Logger == nil {
		opts.Logger = PluginLogger("xqg-vectorizer")
	}
	p := &GRPCPlugin{Configure: opts.Configure}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{Name: p},
		Logger:          opts.Logger,
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			o = append(o, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
			return goplugin.DefaultGRPCServer(o)
		},
	})
	if p.srv != nil {
		p.srv.close()
	}
}

// Client is the host side of one plugin connection. Besides Vectorizer it has Configure,
// which the supervisor (plugin/host) calls on every plugin it starts.
type Client struct {
	rpc pb.VectorizerClient
}

var _ Vectorizer = (*Client)(nil)

// Configure sends the backend configuration and returns the configured backend's Info.
func (c *Client) Configure(ctx context.Context, cfg BackendConfig) (Info, error) {
	data, err := MarshalConfig(cfg)
	if err != nil {
		return Info{}, fmt.Errorf("plugin: encode configuration: %w", err)
	}
	r, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{ConfigJson: data})
	if err != nil {
		return Info{}, errorOf(ctx, err)
	}
	return infoFromPB(r), nil
}

func (c *Client) Info(ctx context.Context) (Info, error) {
	r, err := c.rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, errorOf(ctx, err)
	}
	return infoFromPB(r), nil
}

func (c *Client) EmbedPassages(ctx context.Context, passages []Passage, opts Options) ([]PassageResult, error) {
	out := make([]PassageResult, len(passages))
	// protobuf strings must be UTF-8: a bad passage would fail the whole call's encoding, so it
	// gets its error here and is not sent.
	send, at := make([]Passage, 0, len(passages)), make([]int, 0, len(passages))
	for i, p := range passages {
		if err := checkPassageUTF8(i, p); err != nil {
			out[i] = PassageResult{ID: p.ID, Err: err}
			continue
		}
		send, at = append(send, p), append(at, i)
	}
	if len(send) == 0 {
		return out, nil
	}
	r, err := c.rpc.EmbedPassages(ctx, passagesRequestToPB(send, opts))
	if err != nil {
		return nil, errorOf(ctx, err)
	}
	if len(r.GetResults()) != len(send) {
		return nil, fmt.Errorf("plugin: EmbedPassages returned %d results for %d passages", len(r.GetResults()), len(send))
	}
	for k, p := range r.GetResults() {
		out[at[k]] = passageResultFromPB(p)
		renumber(&out[at[k]].Err, k, at[k])
	}
	return out, nil
}

func (c *Client) EmbedQueries(ctx context.Context, texts []string) ([]QueryResult, error) {
	out := make([]QueryResult, len(texts))
	send, at := make([]string, 0, len(texts)), make([]int, 0, len(texts))
	for i, t := range texts {
		if !utf8.ValidString(t) {
			out[i].Err = fmt.Errorf("%w: texts[%d] is not valid UTF-8", ErrInvalidInput, i)
			continue
		}
		send, at = append(send, t), append(at, i)
	}
	if len(send) == 0 {
		return out, nil
	}
	r, err := c.rpc.EmbedQueries(ctx, &pb.EmbedQueriesRequest{Texts: send})
	if err != nil {
		return nil, errorOf(ctx, err)
	}
	if len(r.GetResults()) != len(send) {
		return nil, fmt.Errorf("plugin: EmbedQueries returned %d results for %d texts", len(r.GetResults()), len(send))
	}
	for k, q := range r.GetResults() {
		out[at[k]] = queryResultFromPB(q)
		renumber(&out[at[k]].Err, k, at[k])
	}
	return out, nil
}

func checkPassageUTF8(i int, p Passage) error {
	bad := func(field string) error {
		return fmt.Errorf("%w: passages[%d].%s is not valid UTF-8", ErrInvalidInput, i, field)
	}
	switch {
	case !utf8.ValidString(p.ID):
		return bad("id")
	case !utf8.ValidString(p.Title):
		return bad("title")
	case !utf8.ValidString(p.Text):
		return bad("text")
	}
	for lang, qs := range p.Queries {
		if !utf8.ValidString(lang) {
			return bad("generated_queries key")
		}
		for k, q := range qs {
			if !utf8.ValidString(q) {
				return bad(fmt.Sprintf("generated_queries.%s[%d]", lang, k))
			}
		}
	}
	return nil
}

// renumber fixes the batch index in a per-item error from the plugin ("texts[2]") when items were
// held back, so it names the caller's index.
func renumber(err *error, sent, orig int) {
	if *err == nil || sent == orig {
		return
	}
	msg := (*err).Error()
	for _, f := range []string{"texts[%d]", "passages[%d]"} {
		from, to := fmt.Sprintf(f, sent), fmt.Sprintf(f, orig)
		if strings.Contains(msg, from) {
			*err = &renamed{msg: strings.Replace(msg, from, to, 1), err: *err}
			return
		}
	}
}

// renamed keeps the sentinel of an error whose message was rewritten.
type renamed struct {
	msg string
	err error
}

func (r *renamed) Error() string { return r.msg }
func (r *renamed) Unwrap() error { return r.err }

func (c *Client) Health(ctx context.Context) error {
	r, err := c.rpc.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		return errorOf(ctx, err)
	}
	if r.GetStatus() != "ok" {
		return fmt.Errorf("%w (status %q)", ErrUnavailable, r.GetStatus())
	}
	return nil
}

// server is the plugin side: it holds the backend once configured.
type server struct {
	pb.UnimplementedVectorizerServer
	configure ConfigureFunc

	mu     sync.RWMutex
	v      Vectorizer
	cfg    []byte
	closed bool
}

// backend returns the configured backend and holds the read lock until release is called, so
// that close, which takes the write lock, never destroys the ONNX Runtime sessions under a call
// still running: grpc's Stop cancels handlers but does not wait for them to return.
func (s *server) backend() (v Vectorizer, release func(), err error) {
	s.mu.RLock()
	if s.v == nil || s.closed {
		s.mu.RUnlock()
		return nil, nil, statusOf(ErrNotConfigured)
	}
	return s.v, s.mu.RUnlock, nil
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.InfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v != nil {
		// The host configures each process once; a repeat with the same payload (a retried call) is harmless.
		if !bytes.Equal(s.cfg, req.GetConfigJson()) {
			return nil, statusOf(fmt.Errorf("%w: plugin already configured with another configuration; start a new process", ErrInvalidInput))
		}
		info, err := s.v.Info(ctx)
		if err != nil {
			return nil, statusOf(err)
		}
		return infoToPB(info), nil
	}
	cfg, err := UnmarshalConfig(req.GetConfigJson())
	if err != nil {
		return nil, statusOf(err)
	}
	v, err := s.configure(ctx, cfg)
	if err != nil {
		return nil, statusOf(err)
	}
	info, err := v.Info(ctx)
	if err != nil {
		closeBackend(v)
		return nil, statusOf(err)
	}
	s.v, s.cfg = v, req.GetConfigJson()
	return infoToPB(info), nil
}

func (s *server) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	v, release, err := s.backend()
	if err != nil {
		return nil, err
	}
	defer release()
	info, err := v.Info(ctx)
	if err != nil {
		return nil, statusOf(err)
	}
	return infoToPB(info), nil
}

func (s *server) EmbedPassages(ctx context.Context, req *pb.EmbedPassagesRequest) (*pb.EmbedPassagesResponse, error) {
	v, release, err := s.backend()
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := v.EmbedPassages(ctx, passagesFromPB(req.GetPassages()), optionsFromPB(req))
	if err != nil {
		return nil, statusOf(err)
	}
	if len(res) != len(req.GetPassages()) {
		return nil, statusOf(fmt.Errorf("backend returned %d results for %d passages", len(res), len(req.GetPassages())))
	}
	out := &pb.EmbedPassagesResponse{Results: make([]*pb.PassageResult, len(res))}
	for i, r := range res {
		out.Results[i] = passageResultToPB(r)
	}
	return out, nil
}

func (s *server) EmbedQueries(ctx context.Context, req *pb.EmbedQueriesRequest) (*pb.EmbedQueriesResponse, error) {
	v, release, err := s.backend()
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := v.EmbedQueries(ctx, req.GetTexts())
	if err != nil {
		return nil, statusOf(err)
	}
	if len(res) != len(req.GetTexts()) {
		return nil, statusOf(fmt.Errorf("backend returned %d results for %d texts", len(res), len(req.GetTexts())))
	}
	out := &pb.EmbedQueriesResponse{Results: make([]*pb.QueryResult, len(res))}
	for i, r := range res {
		out.Results[i] = queryResultToPB(r)
	}
	return out, nil
}

func (s *server) Health(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	s.mu.RLock()
	v := s.v
	s.mu.RUnlock()
	if v == nil {
		return &pb.HealthResponse{Status: "unconfigured"}, nil
	}
	if err := v.Health(ctx); err != nil {
		return nil, statusOf(err)
	}
	return &pb.HealthResponse{Status: "ok"}, nil
}

func (s *server) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v != nil && !s.closed {
		closeBackend(s.v)
	}
	s.closed = true
}

func closeBackend(v Vectorizer) {
	if c, ok := v.(io.Closer); ok {
		_ = c.Close()
	}
}
