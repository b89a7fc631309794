package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
)

// embedOptions are the flags of xqg embed.
type embedOptions struct {
	task  string
	parts bool
	batch int
}

func newEmbedCmd(g *globalFlags) *cobra.Command {
	var o embedOptions
	var logLevel string
	cmd := &cobra.Command{
		Use:   "embed",
		Short: "Embed JSONL from stdin through the vectorizer plugin, JSONL vectors to stdout",
		Long: `embed reads one item per line from stdin: a JSON object {"id","title","text","generated_queries"?}
(generated_queries: {"ja": ["…", …], …} are used instead of generating those languages), or a line of
plain text (its id is the line number). It writes one JSON object per item, in input order:
{"id","vector"}; with --parts (passages) also "passage_vector", "queries" and "query_vectors"
by language, so that vector = (1-α)·passage_vector + α·Σ query_vectors.

--task query encodes the texts as search queries (never generation). An item that cannot be
embedded (empty text, invalid JSON) gets {"id","error"} and the exit status is 1; the rest go on.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.task != "passage" && o.task != "query" {
				return usageError(fmt.Errorf("--task %q: want passage or query", o.task))
			}
			if o.parts && o.task != "passage" {
				return usageError(errors.New("--parts needs --task passage"))
			}
			if o.batch < 0 {
				return usageError(fmt.Errorf("--batch %d: must be positive", o.batch))
			}
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			logger, err := newLogger(c.ErrOrStderr(), logLevel, "text")
			if err != nil {
				return usageError(err)
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return embed(ctx, l.Config, c.InOrStdin(), c.OutOrStdout(), o, logger)
		},
	}
	cmd.Flags().StringVar(&o.task, "task", "passage", "passage (xQG-fused vector) or query (plain query encoding)")
	cmd.Flags().BoolVar(&o.parts, "parts", false, "also write passage_vector, queries and query_vectors")
	cmd.Flags().IntVar(&o.batch, "batch", 0, "items per plugin call (default encoder.batch_size)")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	return cmd
}

// embedIdleFlush is how long a partial batch waits for more input.
const embedIdleFlush = 20 * time.Millisecond

// embedInput is one line of input.
type embedInput struct {
	ID               json.RawMessage     `json:"id"`
	Title            string              `json:"title"`
	Text             *string             `json:"text"`
	GeneratedQueries map[string][]string `json:"generated_queries"`
}

// embedOutput is one line of output.
type embedOutput struct {
	ID            string                 `json:"id"`
	Vector        []float32              `json:"vector,omitempty"`
	PassageVector []float32              `json:"passage_vector,omitempty"`
	Queries       map[string][]string    `json:"queries,omitempty"`
	QueryVectors  map[string][][]float32 `json:"query_vectors,omitempty"`
	Truncated     bool                   `json:"truncated,omitempty"`
	Error         string                 `json:"error,omitempty"`
}

// item is a parsed line: a passage, or the reason it could not be parsed.
type item struct {
	p   plugin.Passage
	err error
}

// parseLine reads line n (1-based) of the input.
func parseLine(n int, line []byte) item {
	id := strconv.Itoa(n)
	if len(line) == 0 || line[0] != '{' {
		return item{p: plugin.Passage{ID: id, Text: string(line)}}
	}
	var in embedInput
	if err := json.Unmarshal(line, &in); err != nil {
		return item{p: plugin.Passage{ID: id}, err: fmt.Errorf("stdin line %d: invalid JSON: %v", n, err)}
	}
	if len(in.ID) > 0 && string(in.ID) != "null" {
		var s string
		if json.Unmarshal(in.ID, &s) == nil {
			id = s
		} else if _, err := strconv.ParseFloat(string(in.ID), 64); err == nil {
			id = string(in.ID)
		} else {
			return item{p: plugin.Passage{ID: id}, err: fmt.Errorf("stdin line %d: id: want a string or a number, got %s", n, in.ID)}
		}
	}
	if in.Text == nil {
		return item{p: plugin.Passage{ID: id}, err: fmt.Errorf("stdin line %d: no \"text\" field", n)}
	}
	return item{p: plugin.Passage{ID: id, Title: in.Title, Text: *in.Text, Queries: in.GeneratedQueries}}
}

// errItemsFailed makes the exit status 1 after every item was written.
type errItemsFailed struct{ n int }

func (e errItemsFailed) Error() string {
	return fmt.Sprintf("%d item(s) could not be embedded (see their \"error\")", e.n)
}

func embed(ctx context.Context, cfg config.Config, in io.Reader, out io.Writer, o embedOptions, logger *slog.Logger) error {
	opts, err := pluginOptions(cfg, logger)
	if err != nil {
		return err
	}
	h, err := host.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("start the vectorizer plugin: %w", err)
	}
	// Close also runs on SIGINT/SIGTERM (ctx ends, the loop returns), so the plugin never outlives us.
	defer h.Close()
	info, err := h.Info(ctx)
	if err != nil {
		return err
	}
	batch := o.batch
	if batch == 0 {
		batch = max(info.MaxBatch, 1)
	}

	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	failed := 0
	var pending []item
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		outs, err := embedBatch(ctx, h, pending, o, cfg.Plugin.StartTimeout)
		if err != nil {
			return err
		}
		for _, r := range outs {
			if r.Error != "" {
				failed++
				logger.Warn("item not embedded", "id", r.ID, "err", r.Error)
			}
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("write stdout: %w", err)
			}
		}
		pending = pending[:0]
		return w.Flush()
	}
	// Stdin is read on its own goroutine: a read blocks and cannot see ctx, and SIGINT/SIGTERM must
	// still stop us (and the plugin) while a producer is silent.
	items := make(chan item, batch)
	readErr := make(chan error, 1)
	go func() {
		defer close(items)
		for n := 1; sc.Scan(); n++ {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			select {
			case items <- parseLine(n, line):
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	// A partial batch goes out once the input pauses, so a slow producer (a pipe fed line by line)
	// gets its vectors without waiting for a full batch.
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		case <-idle.C:
			if err := flush(); err != nil {
				return err
			}
		case it, ok := <-items:
			if !ok {
				done = true
				break
			}
			pending = append(pending, it)
			if len(pending) >= batch {
				if err := flush(); err != nil {
					return err
				}
			} else {
				idle.Reset(embedIdleFlush)
			}
		}
	}
	select {
	case err := <-readErr:
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	default:
	}
	if err := flush(); err != nil {
		return err
	}
	if failed > 0 {
		return errItemsFailed{failed}
	}
	return nil
}

// embedBatch sends the parseable items of one batch, retrying after a plugin restart.
func embedBatch(ctx context.Context, h *host.Host, items []item, o embedOptions, wait time.Duration) ([]embedOutput, error) {
	outs := make([]embedOutput, len(items))
	var ps []plugin.Passage
	var at []int
	for i, it := range items {
		outs[i].ID = it.p.ID
		if it.err != nil {
			outs[i].Error = it.err.Error()
			continue
		}
		ps = append(ps, it.p)
		at = append(at, i)
	}
	if len(ps) == 0 {
		return outs, nil
	}
	const attempts = 3
	for attempt := 1; ; attempt++ {
		err := embedCall(ctx, h, ps, at, outs, o)
		if err == nil {
			return outs, nil
		}
		if !plugin.Retryable(err) || attempt == attempts || ctx.Err() != nil {
			return nil, err
		}
		slog.Default().Debug("plugin call failed, retrying after restart", "err", err)
		wctx, cancel := context.WithTimeout(ctx, 2*wait)
		werr := h.WaitReady(wctx)
		cancel()
		if werr != nil {
			return nil, fmt.Errorf("%w (and the plugin did not come back: %v)", err, werr)
		}
	}
}

// set records one item's result and reports whether it succeeded.
func (out *embedOutput) set(err error, vector []float32, truncated bool) bool {
	if err != nil {
		out.Error = itemError(err)
		return false
	}
	out.Vector, out.Truncated = vector, truncated
	return true
}

func embedCall(ctx context.Context, h *host.Host, ps []plugin.Passage, at []int, outs []embedOutput, o embedOptions) error {
	if o.task == "query" {
		texts := make([]string, len(ps))
		for i, p := range ps {
			texts[i] = p.Text
		}
		res, err := h.EmbedQueries(ctx, texts)
		if err != nil {
			return err
		}
		for j, r := range res {
			outs[at[j]].set(r.Err, r.Vector, r.Truncated)
		}
		return nil
	}
	res, err := h.EmbedPassages(ctx, ps, plugin.Options{WithParts: o.parts})
	if err != nil {
		return err
	}
	for j, r := range res {
		out := &outs[at[j]]
		if !out.set(r.Err, r.Vector, r.Truncated) {
			continue
		}
		if o.parts {
			out.PassageVector, out.Queries, out.QueryVectors = r.PassageVector, r.Queries, r.QueryVectors
		}
	}
	return nil
}

// batchField matches the plugin's batch-relative field names (texts[3], passages[3].).
var batchField = regexp.MustCompile(`texts\[\d+\]|passages\[\d+\]\.`)

// itemError rewrites the plugin's batch-relative field names as the item's own (texts[3] → text,
// passages[3].text → text): the output line's id already says which item it is.
func itemError(err error) string {
	return batchField.ReplaceAllStringFunc(err.Error(), func(m string) string {
		if strings.HasPrefix(m, "texts[") {
			return "text"
		}
		return ""
	})
}
