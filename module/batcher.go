package module

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// batcher coalesces concurrent single-item calls into backend batches: Weaviate's transformers client sends
// one HTTP request per object, concurrently, and a forward pass over 32 texts costs far less than 32 passes
// over one. A batch is cut when it holds size items, when wait has passed since its first item arrived, or
// at once when the backend is idle and no other caller is queued (waiting would only add latency: a lone
// caller at concurrency 1 pays nothing, and under load batches fill while the backend is busy).
type batcher[In, Out any] struct {
	size int
	wait time.Duration
	// run computes a batch; an error fails every caller in it, so per-item failures belong in Out.
	run      func(ctx context.Context, in []In) ([]Out, error)
	calls    chan *call[In, Out]
	inflight chan struct{}
	// queued counts callers between entering Do and being taken by the collector.
	queued atomic.Int64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type call[In, Out any] struct {
	ctx  context.Context
	in   In
	done chan result[Out]
}

type result[Out any] struct {
	out Out
	err error
}

// errBatcherClosed is what a caller gets when the service shuts down under it.
var errBatcherClosed = errors.New("service is shutting down")

// maxInflightBatches lets one batch collect while another runs in the backend, without unbounded fan-out.
const maxInflightBatches = 2

func newBatcher[In, Out any](size int, wait time.Duration, run func(context.Context, []In) ([]Out, error)) *batcher[In, Out] {
	ctx, cancel := context.WithCancel(context.Background())
	b := &batcher[In, Out]{
		size: size, wait: wait, run: run,
		calls:    make(chan *call[In, Out]),
		inflight: make(chan struct{}, maxInflightBatches),
		ctx:      ctx, cancel: cancel,
	}
	if size > 1 {
		b.wg.Add(1)
		go b.loop()
	}
	return b
}

// Do computes one item, alone or inside a batch with other callers' items. A caller whose ctx ends while
// waiting returns ctx.Err() at once; its item is dropped from the batch if the batch has not started yet.
func (b *batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	var zero Out
	if b.size <= 1 {
		outs, err := b.runBatch(ctx, []In{in})
		if err != nil {
			return zero, err
		}
		return outs[0], nil
	}
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan result[Out], 1)}
	b.queued.Add(1)
	select {
	case b.calls <- c:
		b.queued.Add(-1)
	case <-ctx.Done():
		b.queued.Add(-1)
		return zero, ctx.Err()
	case <-b.ctx.Done():
		b.queued.Add(-1)
		return zero, errBatcherClosed
	}
	select {
	case r := <-c.done:
		return r.out, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Close stops collecting and waits for running batches; callers still queued get errBatcherClosed.
func (b *batcher[In, Out]) Close() {
	b.cancel()
	b.wg.Wait()
}

func (b *batcher[In, Out]) loop() {
	defer b.wg.Done()
	for {
		// Wait for a batch slot before collecting, so that while the backend is busy callers queue up and
		// the next batch fills instead of leaving as a string of singletons.
		select {
		case b.inflight <- struct{}{}:
		case <-b.ctx.Done():
			return
		}
		var first *call[In, Out]
		select {
		case first = <-b.calls:
		case <-b.ctx.Done():
			<-b.inflight
			return
		}
		batch := []*call[In, Out]{first}
		timer := time.NewTimer(b.wait)
	collect:
		for len(batch) < b.size {
			if b.queued.Load() == 0 && len(b.inflight) == 1 {
				break // no other batch runs and nobody else is queued
			}
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			case <-timer.C:
				break collect
			case <-b.ctx.Done():
				break collect
			}
		}
		timer.Stop()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer func() { <-b.inflight }()
			b.dispatch(batch)
		}()
	}
}

func (b *batcher[In, Out]) dispatch(batch []*call[In, Out]) {
	live := batch[:0]
	for _, c := range batch {
		if c.ctx.Err() != nil {
			continue // its caller has already returned ctx.Err()
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	in := make([]In, len(live))
	for i, c := range live {
		in[i] = c.in
	}
	// The batch runs under the service's context, not one caller's: a caller giving up must not fail the
	// others that share its batch.
	outs, err := b.runBatch(b.ctx, in)
	for i, c := range live {
		if err != nil {
			c.done <- result[Out]{err: err}
			continue
		}
		c.done <- result[Out]{out: outs[i]}
	}
}

func (b *batcher[In, Out]) runBatch(ctx context.Context, in []In) (outs []Out, err error) {
	// A batch runs on the batcher's goroutine, outside any handler's recover: a panic there would kill the
	// service, so it becomes the batch's error.
	defer func() {
		if v := recover(); v != nil {
			outs, err = nil, &backendError{kind: errInternal, msg: fmt.Sprintf("internal error in a batch of %d: %v", len(in), v)}
		}
	}()
	outs, err = b.run(ctx, in)
	if err != nil {
		return nil, err
	}
	if len(outs) != len(in) {
		return nil, &backendError{kind: errInternal, msg: "backend returned a different number of results than inputs"}
	}
	return outs, nil
}
