// Package host starts and supervises a vectorizer plugin process (plugin.Vectorizer over
// go-plugin gRPC): it configures the plugin, checks its health, restarts it after a crash with
// exponential backoff, fails calls caught by a crash at once with a retryable error, and makes
// sure the process never outlives the host.
//
//	h, err := host.Start(ctx, host.Options{Path: bin, Config: plugin.BackendConfigOf(cfg)})
//	if err != nil { ... }
//	defer h.Close()
//	res, err := h.EmbedQueries(ctx, []string{"what is xQG?"})
//	if plugin.Retryable(err) { _ = h.WaitReady(ctx); ... retry ... }
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/plugin"
)

// Options configure Start. Zero durations take the defaults below.
type Options struct {
	// Path is the plugin binary. OptionsFrom fills Options from the configuration.
	Path string
	Args []string
	// Env is added to the host's environment for the plugin.
	Env    []string
	Config plugin.BackendConfig
	Logger *slog.Logger
	// StartTimeout bounds one start: process launch, handshake and Configure (model loading). Default 60s.
	StartTimeout time.Duration
	// MaxRestarts bounds consecutive restarts after crashes; a plugin that stayed up for
	// StableAfter resets the count. 0 means unlimited, a negative value never restarts.
	MaxRestarts int
	// RestartBackoff is the delay before the first restart; it doubles per consecutive crash up to MaxBackoff. Default 500ms.
	RestartBackoff time.Duration
	MaxBackoff     time.Duration // default 30s
	StableAfter    time.Duration // default 1m
	// HealthInterval is the period of Health checks; HealthFailures failed checks in a row kill
	// the plugin (and so restart it). Default 10s and 3; a negative interval disables checks.
	HealthInterval time.Duration
	HealthFailures int
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.StableAfter <= 0 {
		o.StableAfter = time.Minute
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = 10 * time.Second
	}
	if o.HealthFailures <= 0 {
		o.HealthFailures = 3
	}
}

// ErrClosed is wrapped by calls made after Close.
var ErrClosed = errors.New("vectorizer host closed")

// Host supervises one plugin process at a time. It implements plugin.Vectorizer.
type Host struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	cur      *instance
	info     plugin.Info
	closed   bool
	failed   error // set when the supervisor gave up
	down     error // why there is no instance right now
	restarts int
	changed  chan struct{} // closed and replaced whenever cur, failed or closed changes

	stop chan struct{}
	done chan struct{}
}

var _ plugin.Vectorizer = (*Host)(nil)

type instance struct {
	client  *goplugin.Client
	rpc     *plugin.Client
	runner  *procRunner
	exited  chan struct{}
	gone    context.Context // done once the process has exited
	started time.Time
}

func (i *instance) pid() int {
	if i.runner.proc == nil {
		return 0
	}
	return i.runner.proc.Pid
}

// exitErr describes how the process ended; valid once exited is closed.
func (i *instance) exitErr() error {
	if i.runner.proc == nil {
		return errors.New("never started")
	}
	if err := i.runner.proc.Err(); err != nil {
		return err
	}
	return errors.New("exited with status 0")
}

// Start launches and configures the plugin and returns once it serves, or the first start's error
// (a missing binary, a failed handshake, a configuration the plugin rejects): those are not
// retried, since a restart would fail the same way.
func Start(ctx context.Context, opts Options) (*Host, error) {
	opts.defaults()
	if opts.Path == "" {
		return nil, errors.New("plugin host: no plugin path")
	}
	h := &Host{
		opts:    opts,
		log:     opts.Logger.With("component", "plugin-host"),
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	inst, info, err := h.launch(ctx)
	if err != nil {
		return nil, err
	}
	h.cur, h.info = inst, info
	go h.supervise(inst)
	return h, nil
}

// launch starts one plugin process, completes the handshake and configures it.
func (h *Host) launch(ctx context.Context) (*instance, plugin.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	inst := &instance{exited: make(chan struct{}), started: time.Now()}
	gone, markGone := context.WithCancel(context.Background())
	inst.gone = gone
	go func() {
		<-inst.exited
		markGone()
	}()
	inst.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		Plugins:          goplugin.PluginSet{plugin.Name: &plugin.GRPCPlugin{}},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           plugin.HCLog(h.opts.Logger),
		StartTimeout:     h.opts.StartTimeout,
		GRPCDialOptions:  plugin.DialOptions(),
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			// spec carries go-plugin's environment (cookie, mTLS certificate, socket dir).
			cmd := exec.Command(h.opts.Path, h.opts.Args...)
			cmd.Env = append(spec.Env, h.opts.Env...)
			r, err := newProcRunner(cmd, inst.exited)
			inst.runner = r
			return r, err
		},
	})
	fail := func(err error) (*instance, plugin.Info, error) {
		inst.client.Kill()
		if inst.runner != nil && inst.runner.proc != nil {
			_ = procutil.KillGroup(inst.runner.proc.Pid, syscall.SIGKILL)
		}
		return nil, plugin.Info{}, err
	}

	// go-plugin's Start knows only its own StartTimeout; a cancelled ctx kills the process, which ends it.
	started := make(chan error, 1)
	go func() {
		_, err := inst.client.Start()
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			return fail(fmt.Errorf("start plugin %s: %w", h.opts.Path, err))
		}
	case <-ctx.Done():
		inst.client.Kill()
		<-started
		return fail(fmt.Errorf("start plugin %s: %w", h.opts.Path, ctx.Err()))
	}
	rpc, err := inst.client.Client()
	if err != nil {
		return fail(fmt.Errorf("connect to plugin %s: %w", h.opts.Path, err))
	}
	raw, err := rpc.Dispense(plugin.Name)
	if err != nil {
		return fail(fmt.Errorf("plugin %s: %w", h.opts.Path, err))
	}
	vc, ok := raw.(*plugin.Client)
	if !ok {
		return fail(fmt.Errorf("plugin %s: unexpected client type %T", h.opts.Path, raw))
	}
	inst.rpc = vc
	// The process may crash while loading models; give Configure the same treatment as any call.
	var info plugin.Info
	err = inst.call(ctx, func(ctx context.Context) error {
		var err error
		info, err = vc.Configure(ctx, h.opts.Config)
		return err
	})
	if err != nil {
		return fail(fmt.Errorf("configure plugin %s: %w", h.opts.Path, err))
	}
	h.log.Info("plugin ready", "path", h.opts.Path, "pid", inst.pid(),
		"encoder", info.Encoder.Name, "generator", info.Generator.Name, "dimension", info.Dimension,
		"provider", info.Provider, "startup", time.Since(inst.started).Round(time.Millisecond))
	return inst, info, nil
}

// call runs fn against this instance; if the process dies meanwhile, fn's context is cancelled
// and the error is ErrUnavailable naming the exit, instead of whatever the broken connection says.
func (i *instance) call(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(i.gone, cancel)
	defer stop()
	err := fn(cctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if plugin.Retryable(err) {
		// A broken connection is usually seen before the dead process is reaped; give the reaper
		// a moment so the error can say the plugin died rather than what the socket said.
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-i.exited:
		case <-t.C:
		}
		t.Stop()
	}
	if i.dead() {
		return fmt.Errorf("%w: plugin process %d died during the call: %v", plugin.ErrUnavailable, i.pid(), i.exitErr())
	}
	return err
}

// dead reports whether the process has exited (the supervisor may not have noticed yet).
func (i *instance) dead() bool {
	select {
	case <-i.exited:
		return true
	default:
		return false
	}
}

// supervise waits for the instance to exit and restarts it until Close or MaxRestarts.
func (h *Host) supervise(inst *instance) {
	defer close(h.done)
	// One context for every restart: a context per restart would leave a goroutine waiting on
	// h.stop behind each one until Close, and a plugin crashing forever would pile them up.
	stopped := ctxOf(h.stop)
	consecutive := 0
	for {
		if inst != nil {
			stopHealth := h.watchHealth(inst)
			select {
			case <-inst.exited:
			case <-h.stop:
				stopHealth()
				return
			}
			stopHealth()
			cause := inst.exitErr()
			inst.client.Kill() // reaps go-plugin's goroutines and its socket folder
			_ = procutil.KillGroup(inst.pid(), syscall.SIGKILL)
			if time.Since(inst.started) >= h.opts.StableAfter {
				consecutive = 0
			}
			h.log.Error("plugin exited", "pid", inst.pid(), "err", cause)
			h.setDown(fmt.Errorf("plugin process %d exited: %v", inst.pid(), cause))
			inst = nil
		}
		consecutive++
		if h.opts.MaxRestarts < 0 || h.opts.MaxRestarts > 0 && consecutive > h.opts.MaxRestarts {
			h.giveUp(fmt.Errorf("%w: plugin gave up after %d restarts in a row: %v", plugin.ErrUnavailable, consecutive-1, h.downErr()))
			return
		}
		delay := h.opts.RestartBackoff << min(consecutive-1, 30)
		if delay > h.opts.MaxBackoff || delay <= 0 {
			delay = h.opts.MaxBackoff
		}
		h.log.Info("restarting plugin", "attempt", consecutive, "in", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-h.stop:
			t.Stop()
			return
		}
		next, info, err := h.launch(stopped)
		if err != nil {
			h.log.Error("plugin restart failed", "attempt", consecutive, "err", err)
			h.setDown(err)
			continue
		}
		if !h.setUp(next, info) {
			next.client.Kill()
			_ = procutil.KillGroup(next.pid(), syscall.SIGKILL)
			return
		}
		inst = next
	}
}

// ctxOf is a context done when ch is closed.
func ctxOf(ch <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ch
		cancel()
	}()
	return ctx
}

// watchHealth checks the instance periodically and kills it after HealthFailures failures in a row,
// so a wedged plugin (alive but not answering) is restarted like a crashed one.
func (h *Host) watchHealth(inst *instance) (stop func()) {
	if h.opts.HealthInterval < 0 {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(h.opts.HealthInterval)
		defer t.Stop()
		failures := 0
		for {
			select {
			case <-quit:
				return
			case <-inst.exited:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), h.opts.HealthInterval)
			err := inst.call(ctx, inst.rpc.Health)
			cancel()
			if err == nil {
				failures = 0
				continue
			}
			failures++
			h.log.Warn("plugin health check failed", "pid", inst.pid(), "failures", failures, "err", err)
			if failures >= h.opts.HealthFailures {
				h.log.Error("plugin unhealthy, killing it", "pid", inst.pid())
				_ = procutil.KillGroup(inst.pid(), syscall.SIGKILL)
				return
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
	}
}

func (h *Host) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *Host) setDown(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur, h.down = nil, err
	h.notifyLocked()
}

func (h *Host) downErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}

// setUp installs a restarted instance; false if the host was closed meanwhile.
func (h *Host) setUp(inst *instance, info plugin.Info) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.cur, h.info, h.down = inst, info, nil
	h.restarts++
	h.notifyLocked()
	return true
}

func (h *Host) giveUp(err error) {
	h.log.Error("plugin supervisor stopped", "err", err)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = err
	h.notifyLocked()
}

// current returns the serving instance or a retryable error saying why there is none.
func (h *Host) current() (*instance, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, fmt.Errorf("%w: %w", plugin.ErrUnavailable, ErrClosed)
	case h.failed != nil:
		return nil, h.failed
	case h.cur == nil:
		return nil, fmt.Errorf("%w: plugin restarting (%v)", plugin.ErrUnavailable, h.down)
	case h.cur.dead():
		return nil, fmt.Errorf("%w: plugin process %d exited: %v", plugin.ErrUnavailable, h.cur.pid(), h.cur.exitErr())
	}
	return h.cur, nil
}

func (h *Host) do(ctx context.Context, fn func(context.Context, *plugin.Client) error) error {
	inst, err := h.current()
	if err != nil {
		return err
	}
	err = inst.call(ctx, func(ctx context.Context) error { return fn(ctx, inst.rpc) })
	if err != nil && plugin.Retryable(err) {
		h.mu.Lock()
		closed := h.closed
		h.mu.Unlock()
		if closed {
			// The plugin went away because we stopped it, not because it crashed.
			return fmt.Errorf("%w: %w (call in flight during Close)", plugin.ErrUnavailable, ErrClosed)
		}
	}
	return err
}

// Info returns the configured plugin's description from memory (it is fixed by the configuration),
// so it answers even while the plugin restarts.
func (h *Host) Info(context.Context) (plugin.Info, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return plugin.Info{}, fmt.Errorf("%w: %w", plugin.ErrUnavailable, ErrClosed)
	}
	return h.info, nil
}

func (h *Host) EmbedPassages(ctx context.Context, passages []plugin.Passage, opts plugin.Options) ([]plugin.PassageResult, error) {
	var res []plugin.PassageResult
	err := h.do(ctx, func(ctx context.Context, c *plugin.Client) error {
		var err error
		res, err = c.EmbedPassages(ctx, passages, opts)
		return err
	})
	return res, err
}

func (h *Host) EmbedQueries(ctx context.Context, texts []string) ([]plugin.QueryResult, error) {
	var res []plugin.QueryResult
	err := h.do(ctx, func(ctx context.Context, c *plugin.Client) error {
		var err error
		res, err = c.EmbedQueries(ctx, texts)
		return err
	})
	return res, err
}

// Health asks the running plugin; ErrUnavailable while there is none.
func (h *Host) Health(ctx context.Context) error {
	return h.do(ctx, func(ctx context.Context, c *plugin.Client) error { return c.Health(ctx) })
}

// Ready reports whether a configured plugin is serving now.
func (h *Host) Ready() bool {
	_, err := h.current()
	return err == nil
}

// WaitReady blocks until a plugin serves, the supervisor gives up, the host is closed, or ctx ends.
func (h *Host) WaitReady(ctx context.Context) error {
	for {
		h.mu.Lock()
		ch := h.changed
		h.mu.Unlock()
		inst, err := h.current()
		if inst != nil {
			return nil
		}
		h.mu.Lock()
		final := h.closed || h.failed != nil
		h.mu.Unlock()
		if final {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the plugin: %w (%v)", ctx.Err(), err)
		}
	}
}

// Restarts is how many times the plugin was restarted after a crash.
func (h *Host) Restarts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.restarts
}

// Pid is the running plugin's process id, 0 while there is none.
func (h *Host) Pid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil || h.cur.dead() {
		return 0
	}
	return h.cur.pid()
}

// Close stops the plugin (a graceful shutdown through go-plugin, SIGKILL to its process group
// after 2 s) and the supervisor. Calls in flight fail with ErrUnavailable. Safe to call twice.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.done
		return nil
	}
	h.closed = true
	inst := h.cur
	h.cur = nil
	h.notifyLocked()
	close(h.stop)
	h.mu.Unlock()
	<-h.done
	if inst != nil {
		inst.client.Kill()
		_ = procutil.KillGroup(inst.pid(), syscall.SIGKILL)
		<-inst.exited
	}
	return nil
}
