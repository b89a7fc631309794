// Command convert writes the Hugging Face tokenizer.json equivalent of a
// SentencePiece .model (tokenizer.ConvertSentencePiece), for the reference
// fixtures: convert IN.model OUT.json
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/xqg/xqg/vectorizer/tokenizer"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: convert IN.model OUT.json")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var b bytes.Buffer
	if err := tokenizer.ConvertSentencePiece(&b, in); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
