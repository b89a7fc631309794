package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/vectorizer/tokenizer"
)

func newTokenizeCmd() *cobra.Command {
	var path string
	var tokens, noSpecial bool
	cmd := &cobra.Command{
		Use:   "tokenize --tokenizer PATH [--tokens]",
		Short: "Tokenize stdin lines: one JSON array of token ids (or strings) per line",
		Long: "Reads UTF-8 lines on stdin and writes, per line, a JSON array of token ids with the special\n" +
			"tokens the tokenizer's post-processor adds. PATH is a Hugging Face tokenizer.json or a\n" +
			"SentencePiece .model. This is the way to diff xqg's tokenizer against a reference.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageError(errors.New("--tokenizer is required"))
			}
			tk, err := tokenizer.LoadFile(path)
			if err != nil {
				return usageError(err)
			}
			return tokenizeLines(tk, cmd.InOrStdin(), cmd.OutOrStdout(), tokens, !noSpecial)
		},
	}
	cmd.Flags().StringVar(&path, "tokenizer", "", "tokenizer.json or SentencePiece .model")
	cmd.Flags().BoolVar(&tokens, "tokens", false, "write token strings instead of ids")
	cmd.Flags().BoolVar(&noSpecial, "no-special", false, "do not add the post-processor's special tokens")
	return cmd
}

// tokenizeLines keeps a trailing '\r' (only '\n' ends a line), as spm_encode
// and the JavaScript reference do, so outputs diff line by line.
func tokenizeLines(tk *tokenizer.Tokenizer, in io.Reader, out io.Writer, tokens, special bool) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriter(out)
	for {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read stdin: %w", err)
		}
		if line == "" && err == io.EOF {
			break
		}
		e := tk.Encode(strings.TrimSuffix(line, "\n"), special)
		var b []byte
		if tokens {
			b, _ = json.Marshal(e.Tokens)
		} else {
			b, _ = json.Marshal(e.IDs)
		}
		w.Write(b)
		if werr := w.WriteByte('\n'); werr != nil {
			return fmt.Errorf("write stdout: %w", werr)
		}
		if err == io.EOF {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}
