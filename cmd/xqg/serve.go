package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/module"
	"github.com/xqg/xqg/plugin/host"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	var listen, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the inference API Weaviate's text2vec-transformers (and text2vec-nvidia) module calls",
		Long: `serve starts the xqg-vectorizer plugin and answers Weaviate's text2vec-transformers requests:
task_type passage gets the xQG-fused passage vector, task_type query the plain query encoding
(never generation). Under /plain, passages get their plain vector (for a second named vector).

  TRANSFORMERS_INFERENCE_API=http://127.0.0.1:8090            (one URL for passages and queries)
  moduleConfig text2vec-transformers inferenceUrl: http://127.0.0.1:8090/plain   (plain named vector)
  text2vec-nvidia baseURL: http://127.0.0.1:8090   (batched, POST /v1/embeddings; any NVIDIA_APIKEY)

/.well-known/ready is 503 until the plugin has loaded its models. SIGINT or SIGTERM shuts down
gracefully and stops the plugin.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			extra := map[string]string{}
			if listen != "" {
				extra["module.listen"] = listen
			}
			l, err := g.load(extra)
			if err != nil {
				return err
			}
			logger, err := newLogger(c.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return usageError(err)
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, l.Config, logger)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (module.listen; default 127.0.0.1:8090)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error (debug logs every request)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

func newLogger(w interface{ Write([]byte) (int, error) }, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// serve listens first, so that Weaviate's readiness probe gets a 503 (not a refused connection) while the
// plugin loads its models, then starts the plugin and serves until ctx ends.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	opts, err := pluginOptions(cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Module.Listen)
	if err != nil {
		return fmt.Errorf("module.listen %s: %w", cfg.Module.Listen, err)
	}
	srv := module.New(module.OptionsFrom(cfg, logger))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var h *host.Host
	started := make(chan struct{})
	go func() {
		defer close(started)
		var err error
		h, err = host.Start(ctx, opts)
		if err != nil {
			cancel(fmt.Errorf("start the vectorizer plugin %s: %w", opts.Path, err))
			return
		}
		logger.Info("vectorizer plugin started", "path", opts.Path, "pid", h.Pid())
		srv.Attach(h)
	}()

	serveErr := srv.Serve(ctx, ln, 30*time.Second)
	<-started
	if h != nil {
		// Closing the host stops the plugin process (its whole process group), so none is left behind.
		if err := h.Close(); err != nil {
			logger.Warn("stop the vectorizer plugin", "err", err)
		}
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return serveErr
}
