package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/internal/versions"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print xqg's version and the pinned Weaviate and ONNX Runtime versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "xqg          %s (%s, %s/%s)\n", versions.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(out, "weaviate     %s\n", versions.Weaviate)
			fmt.Fprintf(out, "onnxruntime  %s\n", versions.ONNXRuntime)
			return nil
		},
	}
}
