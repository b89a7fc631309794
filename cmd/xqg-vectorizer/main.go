// Command xqg-vectorizer is xqg's vectorizer plugin: the bi-encoder and the query generator on
// ONNX Runtime, served over the plugin contract (package plugin) to an xqg host process. It is the
// only xqg binary that links ONNX Runtime (cgo); it refuses to run unless started by a host.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/xqg/xqg/plugin"
)

func main() {
	if os.Getenv(plugin.Handshake.MagicCookieKey) != plugin.Handshake.MagicCookieValue {
		fmt.Fprintln(os.Stderr, "xqg-vectorizer is a plugin of xqg and is started by it (e.g. `xqg serve`, `xqg embed`); it does not run on its own.")
		os.Exit(2)
	}
	log := plugin.PluginLogger("xqg-vectorizer")
	// Engine packages log with slog; route it through hclog so the host receives it.
	slog.SetDefault(slog.New(plugin.SlogHandler(log)))
	plugin.Serve(plugin.ServeOptions{Configure: configure, Logger: log})
}
