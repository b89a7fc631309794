package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/xqg/xqg/config"
	pb "github.com/xqg/xqg/plugin/proto"
)

func TestErrorMapping(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		err       error
		want      error
		retryable bool
	}{
		{"invalid input", context.Background(), fmt.Errorf("%w: texts[3] is empty", ErrInvalidInput), ErrInvalidInput, false},
		{"unavailable", context.Background(), fmt.Errorf("%w: busy", ErrUnavailable), ErrUnavailable, true},
		{"not configured", context.Background(), ErrNotConfigured, ErrUnavailable, true},
		{"caller cancelled", cancelled, context.Canceled, context.Canceled, false},
		{"plugin's own deadline", context.Background(), context.DeadlineExceeded, ErrUnavailable, true},
		{"internal", context.Background(), errors.New("onnxruntime: boom"), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorOf(tt.ctx, statusOf(tt.err))
			if got == nil {
				t.Fatal("error lost")
			}
			if tt.want != nil && !errors.Is(got, tt.want) {
				t.Errorf("errorOf(statusOf(%v)) = %v, want it to wrap %v", tt.err, got, tt.want)
			}
			if Retryable(got) != tt.retryable {
				t.Errorf("Retryable(%v) = %v, want %v", got, Retryable(got), tt.retryable)
			}
			if !strings.Contains(got.Error(), strings.TrimPrefix(tt.err.Error(), "vectorizer unavailable: ")) {
				t.Errorf("message %q lost %q", got, tt.err)
			}
		})
	}
}

func TestItemErrorRoundTrip(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("%w: passages[0].text is empty", ErrInvalidInput),
		fmt.Errorf("%w: generator busy", ErrUnavailable),
		errors.New("something else"),
	} {
		got := errorOfItem(itemErrorOf(err))
		if got.Error() != err.Error() {
			t.Errorf("round trip of %q gave %q", err, got)
		}
		for _, s := range []error{ErrInvalidInput, ErrUnavailable} {
			if errors.Is(err, s) != errors.Is(got, s) {
				t.Errorf("round trip of %q: errors.Is(%v) changed", err, s)
			}
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	c := BackendConfigOf(config.Defaults())
	c.Encoder.ModelDir = "/models/e5"
	c.Encoder.Normalize = true
	c.Generator.Languages = []string{"ja", "te"}
	c.Augment.Alpha = 0.25
	c.ORT.Provider = "cuda"
	data, err := MarshalConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"model_dir":"/models/e5"`, `"queries_per_language":5`, `"library_path":""`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("payload %s lacks %s (keys must follow the YAML names)", data, key)
		}
	}
	got, err := UnmarshalConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
}

func TestUnmarshalConfigErrors(t *testing.T) {
	tests := []struct{ payload, want string }{
		{`{"encoder":{"model_dirr":"x"}}`, "model_dirr"},
		{`{"encoder":`, "configure payload"},
		{`{"augment":{"alpha":"lots"}}`, "alpha"},
	}
	for _, tt := range tests {
		_, err := UnmarshalConfig([]byte(tt.payload))
		if err == nil || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("UnmarshalConfig(%s) = %v, want an invalid-input error naming %q", tt.payload, err, tt.want)
		}
	}
}

// TestOptionsOverTheWire: every EmbedPassages option survives protobuf encoding, so a backend sees
// what the host asked for.
func TestOptionsOverTheWire(t *testing.T) {
	for _, want := range []Options{{}, {WithParts: true}, {PlainOnly: true}, {WithParts: true, PlainOnly: true}} {
		raw, err := proto.Marshal(passagesRequestToPB([]Passage{{ID: "1", Text: "x"}}, want))
		if err != nil {
			t.Fatal(err)
		}
		var req pb.EmbedPassagesRequest
		if err := proto.Unmarshal(raw, &req); err != nil {
			t.Fatal(err)
		}
		if got := optionsFromPB(&req); got != want {
			t.Errorf("options %+v arrived as %+v", want, got)
		}
	}
}

// blockingBackend holds EmbedQueries until released and records Close, to see the order
// server.close and a call in flight run in.
type blockingBackend struct {
	Vectorizer
	entered, release chan struct{}
	closed           chan struct{}
}

func (b *blockingBackend) EmbedQueries(ctx context.Context, texts []string) ([]QueryResult, error) {
	close(b.entered)
	<-b.release
	return make([]QueryResult, len(texts)), nil
}

func (b *blockingBackend) Close() error { close(b.closed); return nil }

// close must not destroy the backend (the ONNX Runtime sessions) under a call still running.
func TestServerCloseWaitsForCallsInFlight(t *testing.T) {
	b := &blockingBackend{entered: make(chan struct{}), release: make(chan struct{}), closed: make(chan struct{})}
	s := &server{v: b}
	callDone := make(chan error, 1)
	go func() {
		_, err := s.EmbedQueries(context.Background(), &pb.EmbedQueriesRequest{Texts: []string{"q"}})
		callDone <- err
	}()
	<-b.entered
	closeDone := make(chan struct{})
	go func() { s.close(); close(closeDone) }()
	select {
	case <-b.closed:
		t.Fatal("backend closed while a call was running in it")
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	if err := <-callDone; err != nil {
		t.Fatalf("call in flight: %v", err)
	}
	<-closeDone
	select {
	case <-b.closed:
	default:
		t.Fatal("close returned without closing the backend")
	}
	if _, err := s.EmbedQueries(context.Background(), &pb.EmbedQueriesRequest{Texts: []string{"q"}}); !errors.Is(errorOf(context.Background(), err), ErrUnavailable) {
		t.Fatalf("call after close: %v, want ErrUnavailable", err)
	}
}
