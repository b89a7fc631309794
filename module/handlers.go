package module

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TruncatedHeader is "true" on a response when a text was longer than the model allows and was cut
// before encoding (on /v1/embeddings, TruncatedInputsHeader lists which inputs).
const (
	TruncatedHeader       = "X-Xqg-Truncated"
	TruncatedInputsHeader = "X-Xqg-Truncated-Inputs"
	// TaskHeader says what the vector is: passage (xQG-fused), plain (plain passage) or query.
	TaskHeader = "X-Xqg-Task"
)

// MaxEmbeddingInputs bounds the inputs of one /v1/embeddings call (Weaviate's nvidia module sends ≤ 10).
const MaxEmbeddingInputs = 256

// vecRequest is the body Weaviate's transformers client sends and, with the same field names, the body
// it parses from the answer (weaviate v1.35.2 usecases/modulecomponents/clients/transformers/transformers.go,
// vecRequest, lines 47-59; the answer is unmarshalled into the same struct at lines 152-166).
type vecRequest struct {
	Text   string           `json:"text"`
	Dims   int              `json:"dims"`
	Vector []float32        `json:"vector"`
	Error  string           `json:"error"`
	Config vecRequestConfig `json:"config"`
}

type vecRequestConfig struct {
	PoolingStrategy string `json:"pooling_strategy,omitempty"`
	TaskType        string `json:"task_type,omitempty"`
	Dimensions      *int64 `json:"dimensions,omitempty"`
}

// vecResponse is the answer: Weaviate reads text, vector and dims; dim is kept for the Python
// t2v-transformers image's clients, which read that name.
type vecResponse struct {
	Text   string    `json:"text"`
	Vector []float32 `json:"vector"`
	Dim    int       `json:"dim"`
	Dims   int       `json:"dims"`
}

// instrument records a request's count and latency by endpoint, task and status.
func (s *Server) instrument(endpoint string, h func(w http.ResponseWriter, r *http.Request) (task, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		t, code := h(w, r)
		if t == "" {
			t = "none"
		}
		c := strconv.Itoa(code)
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(endpoint, string(t), c).Inc()
		s.metrics.latency.WithLabelValues(endpoint, string(t), c).Observe(elapsed.Seconds())
		// Successes at debug: Weaviate sends one request per object, so an import would flood the log.
		level := slog.LevelDebug
		switch {
		case code >= 500:
			level = slog.LevelError
		case code >= 400:
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "request", "endpoint", endpoint, "task", t, "code", code, "duration", elapsed)
	})
}

// readBody reads at most the body limit and checks it is UTF-8, so that every later message can name the
// problem (encoding/json would silently turn invalid bytes into U+FFFD).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.BodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &backendError{kind: errTooLarge, msg: fmt.Sprintf("request body exceeds the limit of %d bytes (module.body_limit)", mbe.Limit)}
		}
		return nil, invalid("read request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid("request body is empty: want a JSON object")
	}
	if !utf8.Valid(body) {
		return nil, invalid("request body is not valid UTF-8 (first bad byte at offset %d)", firstInvalidUTF8(body))
	}
	return body, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// decodeJSON unmarshals body into v with errors that name the JSON path or offset of the problem.
func decodeJSON(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return invalid("invalid JSON at byte offset %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(the body)"
		}
		return invalid("invalid JSON: %s must be %s, got %s", field, jsonType(te.Type.Kind().String()), te.Value)
	default:
		return invalid("invalid JSON: %v", err)
	}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

// checkText rejects what no model should be asked to embed; name is the JSON path for the message.
func checkText(name, text string) error {
	if strings.TrimSpace(text) == "" {
		if text == "" {
			return invalid("%s is empty", name)
		}
		return invalid("%s is only whitespace", name)
	}
	return nil
}

// parseTask maps a request's task type to what the service computes. A missing task type is an error:
// Weaviate ≥ 1.25 always sends one, and guessing would silently put the wrong kind of vector in an index.
func parseTask(field, v string, plain bool) (task, error) {
	switch v {
	case "passage":
		if plain {
			return taskPlain, nil
		}
		return taskPassage, nil
	case "query":
		return taskQuery, nil
	case "":
		return "", invalid("%s is missing: want \"passage\" or \"query\"", field)
	default:
		return "", invalid("%s %q is unknown: want \"passage\" or \"query\"", field, v)
	}
}

// checkDimensions accepts a requested dimension only when it is the model's own: xqg does not cut vectors
// (the encoders it runs are not Matryoshka-trained, so a prefix of a vector is not a usable embedding).
func (s *Server) checkDimensions(field string, want *int64) error {
	if want == nil {
		return nil
	}
	m := s.meta.Load()
	if *want <= 0 {
		return invalid("%s %d must be positive", field, *want)
	}
	if m != nil && m.dimension > 0 && int(*want) != m.dimension {
		return invalid("%s %d: the model's dimension is %d and xqg does not truncate vectors", field, *want, m.dimension)
	}
	return nil
}

func (s *Server) vectorsHandler(plain bool) http.Handler {
	return s.instrument("vectors", func(w http.ResponseWriter, r *http.Request) (task, int) {
		fail := func(t task, err error) (task, int) {
			writeTransformersError(w, err)
			return t, statusOf(err)
		}
		body, err := s.readBody(w, r)
		if err != nil {
			return fail("", err)
		}
		var req vecRequest
		if err := decodeJSON(body, &req); err != nil {
			return fail("", err)
		}
		t, err := parseTask("config.task_type", req.Config.TaskType, plain)
		if err != nil {
			return fail("", err)
		}
		if err := checkText("text", req.Text); err != nil {
			return fail(t, err)
		}
		if err := s.checkDimensions("config.dimensions", req.Config.Dimensions); err != nil {
			return fail(t, err)
		}
		if _, err := s.backendFor(); err != nil {
			return fail(t, err)
		}
		o, err := s.encode(r.Context(), t, req.Text)
		if err != nil {
			return fail(t, requestError(r.Context(), err))
		}
		if req.Config.Dimensions != nil && int(*req.Config.Dimensions) != len(o.vector) {
			return fail(t, invalid("config.dimensions %d: the model's dimension is %d and xqg does not truncate vectors", *req.Config.Dimensions, len(o.vector)))
		}
		w.Header().Set(TaskHeader, string(t))
		if o.truncated {
			w.Header().Set(TruncatedHeader, "true")
		}
		writeJSON(w, http.StatusOK, vecResponse{Text: req.Text, Vector: o.vector, Dim: len(o.vector), Dims: len(o.vector)})
		return t, http.StatusOK
	})
}

// requestError turns a caller's own cancellation into a clear error (the client has usually gone, but a
// proxy in between may still read it).
func requestError(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return unavailable("request cancelled before its vector was ready", err)
	}
	return err
}

// embeddingsRequest is what Weaviate's text2vec-nvidia client sends to {baseURL}/v1/embeddings (weaviate
// v1.35.2 usecases/modulecomponents/clients/nvidia/nvidia.go, embeddingsRequest, lines 48-54), a subset of
// OpenAI's embeddings request; input may also be a single string, as OpenAI allows.
type embeddingsRequest struct {
	Input          json.RawMessage `json:"input"`
	Model          string          `json:"model"`
	EncodingFormat string          `json:"encoding_format"`
	InputType      string          `json:"input_type"`
	Truncate       string          `json:"truncate"`
	Dimensions     *int64          `json:"dimensions"`
}

type embeddingsResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingsUsage `json:"usage"`
}

type embeddingData struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// embeddingsUsage is OpenAI's usage block. The backend does not report token counts, so both are 0.
type embeddingsUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

func parseInputs(raw json.RawMessage) ([]string, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, invalid("input is missing: want a string or an array of strings")
	}
	if trimmed[0] == '"' {
		var one string
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return nil, invalid("input: %v", err)
		}
		return []string{one}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(trimmed, &elems); err != nil {
		return nil, invalid("input must be a string or an array of strings")
	}
	if len(elems) == 0 {
		return nil, invalid("input is an empty array")
	}
	if len(elems) > MaxEmbeddingInputs {
		return nil, invalid("input has %d items, at most %d are allowed per call", len(elems), MaxEmbeddingInputs)
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if err := json.Unmarshal(e, &out[i]); err != nil {
			return nil, invalid("input[%d] must be a string", i)
		}
	}
	return out, nil
}

func (s *Server) embeddingsHandler(plain bool) http.Handler {
	return s.instrument("embeddings", func(w http.ResponseWriter, r *http.Request) (task, int) {
		fail := func(t task, err error) (task, int) {
			writeEmbeddingsError(w, err)
			return t, statusOf(err)
		}
		body, err := s.readBody(w, r)
		if err != nil {
			return fail("", err)
		}
		var req embeddingsRequest
		if err := decodeJSON(body, &req); err != nil {
			return fail("", err)
		}
		t, err := parseTask("input_type", req.InputType, plain)
		if err != nil {
			return fail("", err)
		}
		inputs, err := parseInputs(req.Input)
		if err != nil {
			return fail(t, err)
		}
		for i, in := range inputs {
			if err := checkText(fmt.Sprintf("input[%d]", i), in); err != nil {
				return fail(t, err)
			}
		}
		switch req.EncodingFormat {
		case "", "float":
		default:
			return fail(t, invalid("encoding_format %q is not supported: want \"float\"", req.EncodingFormat))
		}
		// The encoder keeps the start of a long text (END cuts the end). NONE, NVIDIA's default, would reject
		// long texts; xqg truncates them instead and says so in a header, like /vectors.
		switch strings.ToUpper(req.Truncate) {
		case "", "NONE", "END":
		case "START":
			return fail(t, invalid("truncate \"START\" is not supported: the encoder keeps the start of a long text (use END or NONE)"))
		default:
			return fail(t, invalid("truncate %q is unknown: want NONE, END or START", req.Truncate))
		}
		if err := s.checkDimensions("dimensions", req.Dimensions); err != nil {
			return fail(t, err)
		}
		if _, err := s.backendFor(); err != nil {
			return fail(t, err)
		}

		// Each input goes through the batcher on its own, so a call's inputs coalesce with concurrent
		// /vectors requests and other calls into full backend batches.
		results := make([]encoded, len(inputs))
		errs := make([]error, len(inputs))
		done := make(chan struct{})
		for i := range inputs {
			go func() {
				results[i], errs[i] = s.encode(r.Context(), t, inputs[i])
				done <- struct{}{}
			}()
		}
		for range inputs {
			<-done
		}
		var truncated []string
		resp := embeddingsResponse{Object: "list", Data: make([]embeddingData, len(inputs)), Model: req.Model}
		for i := range inputs {
			if errs[i] != nil {
				return fail(t, fmt.Errorf("input[%d]: %w", i, requestError(r.Context(), errs[i])))
			}
			resp.Data[i] = embeddingData{Object: "embedding", Index: i, Embedding: results[i].vector}
			if results[i].truncated {
				truncated = append(truncated, strconv.Itoa(i))
			}
		}
		if resp.Model == "" {
			if m := s.meta.Load(); m != nil {
				if enc, ok := m.info["encoder"].(map[string]any); ok {
					resp.Model, _ = enc["name"].(string)
				}
			}
		}
		w.Header().Set(TaskHeader, string(t))
		if len(truncated) > 0 {
			w.Header().Set(TruncatedHeader, "true")
			w.Header().Set(TruncatedInputsHeader, strings.Join(truncated, ","))
		}
		writeJSON(w, http.StatusOK, resp)
		return t, http.StatusOK
	})
}
