package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/internal/tinymodels"
)

func newModelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Write tiny or benchmark-sized models, and validate model folders",
	}
	cmd.AddCommand(newModelsTinyCmd(), newModelsCheckCmd())
	return cmd
}

func newModelsTinyCmd() *cobra.Command {
	var out, shape, layout, pooling string
	var external bool
	cmd := &cobra.Command{
		Use:   "tiny --out DIR",
		Short: "Write models with generated weights, laid out as optimum-cli export onnx does",
		Long: "Write an encoder (BERT-like: model.onnx, config.json, tokenizer.json, 1_Pooling/config.json) and/or a\n" +
			"seq2seq model (mT5-like: encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx,\n" +
			"decoder_model_merged.onnx, config.json, generation_config.json, tokenizer.json) with deterministic\n" +
			"generated weights. --shape tiny writes both, into DIR/encoder and DIR/seq2seq; a real-size shape\n" +
			"(" + strings.Join(tinymodels.ShapeNames(), ", ") + ") writes one model into DIR, for benchmarks\n" +
			"(hundreds of MB to several GB, with tensors in <model>.onnx_data files, which ONNX Runtime loads fastest).",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usageError(errors.New("--out DIR is required"))
			}
			shapes, ok := tinymodels.Shapes[shape]
			if !ok {
				return usageError(fmt.Errorf("--shape %q: want one of %s", shape, strings.Join(tinymodels.ShapeNames(), ", ")))
			}
			var opts []tinymodels.Option
			switch layout {
			case "all":
				opts = append(opts, tinymodels.WithLayout(tinymodels.LayoutAll))
			case "split":
				opts = append(opts, tinymodels.WithLayout(tinymodels.LayoutSplit))
			case "merged":
				opts = append(opts, tinymodels.WithLayout(tinymodels.LayoutMerged))
			default:
				return usageError(fmt.Errorf("--layout %q: want all, split or merged", layout))
			}
			switch pooling {
			case "mean", "cls":
				opts = append(opts, tinymodels.WithPooling(pooling))
			case "none":
				opts = append(opts, tinymodels.WithPooling(""))
			default:
				return usageError(fmt.Errorf("--pooling %q: want mean, cls or none", pooling))
			}
			if external {
				opts = append(opts, tinymodels.WithExternalData())
			}
			for _, s := range shapes {
				dir := out
				if len(shapes) > 1 {
					dir = filepath.Join(out, map[bool]string{true: "seq2seq", false: "encoder"}[s.IsSeq2Seq()])
				}
				start := time.Now()
				var err error
				if s.IsSeq2Seq() {
					err = tinymodels.WriteSeq2Seq(dir, s, opts...)
				} else {
					err = tinymodels.WriteEncoder(dir, s, opts...)
				}
				if err != nil {
					return fmt.Errorf("write %s model into %s: %w", s.Name, dir, err)
				}
				kind := "encoder"
				if s.IsSeq2Seq() {
					kind = "seq2seq"
				}
				fmt.Fprintf(c.OutOrStdout(), "%s %s: %s (%s, %.1fs)\n", s.Name, kind, dir, humanBytes(dirSize(dir)), time.Since(start).Seconds())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder to write (created if missing)")
	cmd.Flags().StringVar(&shape, "shape", "tiny", "model shape: "+strings.Join(tinymodels.ShapeNames(), "|"))
	cmd.Flags().StringVar(&layout, "layout", "all", "seq2seq decoder files: all | split (decoder + decoder_with_past) | merged")
	cmd.Flags().StringVar(&pooling, "pooling", "mean", "encoder pooling written to 1_Pooling/config.json: mean | cls | none")
	cmd.Flags().BoolVar(&external, "external-data", false, "keep tensors in <model>.onnx_data files for tiny shapes too (real sizes always do)")
	return cmd
}

func newModelsCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check DIR",
		Short: "Validate a model folder (encoder or seq2seq): files, ONNX inputs/outputs, config and tokenizer",
		Long: "Detect whether DIR is an encoder or a seq2seq folder and check that every expected file is present,\n" +
			"that the ONNX graphs have the input and output names, element types and ranks xqg uses, that external\n" +
			"data files exist, that the JSON files parse and that tokenizer.json loads. Each problem is printed with\n" +
			"its file; the exit status is 1 when there is any.",
		Args: func(c *cobra.Command, args []string) error { return usageError(cobra.ExactArgs(1)(c, args)) },
		RunE: func(c *cobra.Command, args []string) error {
			r, err := tinymodels.Check(args[0])
			if err != nil {
				return usageError(err)
			}
			if err := r.Err(); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %s model folder OK (%d files checked: %s)\n",
				r.Dir, r.Kind, len(r.Checked), strings.Join(r.Checked, ", "))
			return nil
		},
	}
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
