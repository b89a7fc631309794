package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/internal/launcher"
	"github.com/xqg/xqg/internal/setup"
)

func newSetupCmd(g *globalFlags) *cobra.Command {
	var skipORT, skipWeaviate bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install ONNX Runtime and build weaviate-server into the cache folder (skipped when already done)",
		Long: "Install ONNX Runtime (from the npm package onnxruntime-node, sha256-verified) and build weaviate-server\n" +
			"from source with go install, both into the cache folder (cache.dir / $XQG_CACHE_DIR, default ~/.cache/xqg).\n" +
			"ort.library_path or $XQG_ORT_LIBRARY selects an existing library instead; $XQG_WEAVIATE_BIN an existing server.\n" +
			"Progress goes to stderr; the two paths to stdout.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			progress := c.ErrOrStderr()
			if !skipORT {
				lib := l.Config.ORT.LibraryPath
				if lib == "" {
					lib = os.Getenv(setup.EnvORTLibrary)
				}
				p, err := setup.EnsureONNXRuntime(ctx, setup.ORTOptions{LibraryPath: lib, CacheDir: l.Config.Cache.Dir, Out: progress})
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "onnxruntime library: %s\n", p)
			}
			if !skipWeaviate {
				p, err := setup.EnsureWeaviate(ctx, setup.WeaviateOptions{BinaryPath: os.Getenv(launcher.EnvBinary), CacheDir: l.Config.Cache.Dir, Out: progress})
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "weaviate-server:     %s\n", p)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&skipORT, "skip-onnxruntime", false, "do not install ONNX Runtime")
	cmd.Flags().BoolVar(&skipWeaviate, "skip-weaviate", false, "do not build weaviate-server")
	return cmd
}
