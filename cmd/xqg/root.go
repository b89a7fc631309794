// Command xqg is the xqg CLI: setup, the inference service, ingest, query, evaluation and benchmarks.
// It is pure Go (CGO_ENABLED=0 builds it): everything that links ONNX Runtime runs in the
// xqg-vectorizer plugin process.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/cachedir"
)

// usage marks an error as a usage or configuration error (exit code 2).
type usage struct{ err error }

func (u usage) Error() string { return u.err.Error() }
func (u usage) Unwrap() error { return u.err }

func usageError(err error) error {
	if err == nil {
		return nil
	}
	return usage{err}
}

// globalFlags are the flags every subcommand shares.
type globalFlags struct {
	configFile string
	set        []string
}

// load reads the configuration from the global flags plus extra per-command overrides.
func (g *globalFlags) load(extra map[string]string) (*config.Loaded, error) {
	overrides := map[string]string{}
	for _, kv := range g.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usageError(fmt.Errorf("--set %q: want key=value", kv))
		}
		overrides[k] = v
	}
	for k, v := range extra {
		overrides[k] = v
	}
	l, err := config.Load(config.Options{File: g.configFile, Overrides: overrides})
	var problems config.Problems
	if errors.As(err, &problems) || errors.Is(err, fs.ErrNotExist) {
		// A wrong configuration, or a --config/XQG_CONFIG file that is not there: the caller's to fix.
		return nil, usageError(err)
	}
	return l, err
}

// cacheRoot is the cache folder: cache.dir, else $XQG_CACHE_DIR, else ~/.cache/xqg.
func cacheRoot(cfg config.Config) string {
	if cfg.Cache.Dir != "" {
		return cfg.Cache.Dir
	}
	return cachedir.Dir()
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "xqg",
		Short:         "Cross-lingual query-augmented passage vectors (xQG) for Weaviate",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "YAML configuration file (default $XQG_CONFIG)")
	root.PersistentFlags().StringArrayVar(&g.set, "set", nil, "override a configuration key: --set key=value (repeatable)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })

	root.AddCommand(newVersionCmd())
	root.AddCommand(newConfigCmd(g))
	root.AddCommand(newServeCmd(g))
	root.AddCommand(newSetupCmd(g))
	root.AddCommand(newIngestCmd(g))
	root.AddCommand(newQueryCmd(g))
	root.AddCommand(newCollectionsCmd(g))
	root.AddCommand(newDemoCmd(g))
	root.AddCommand(newEmbedCmd(g))
	root.AddCommand(newEvalCmd(g))
	root.AddCommand(newAttackCmd(g))
	root.AddCommand(newBenchCmd(g))
	root.AddCommand(newModelsCmd())
	root.AddCommand(newTokenizeCmd())
	markArgErrors(root)
	return root
}

// markArgErrors makes a wrong number of positional arguments a usage error (exit 2) in every
// subcommand, as flag errors already are.
func markArgErrors(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error { return usageError(args(cmd, a)) }
	}
	for _, sub := range c.Commands() {
		markArgErrors(sub)
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "xqg:", err)
	var u usage
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		return 2
	}
	return 1
}
