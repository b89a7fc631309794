package module

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

type errKind int

const (
	errInvalid errKind = iota
	errTooLarge
	errUnavailable
	errInternal
	errNotFound
	errMethod
)

// backendError is an error with the HTTP status it maps to.
type backendError struct {
	kind errKind
	msg  string
	err  error
}

func (e *backendError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *backendError) Unwrap() error { return e.err }

func (e *backendError) status() int {
	switch e.kind {
	case errInvalid:
		return http.StatusBadRequest
	case errTooLarge:
		return http.StatusRequestEntityTooLarge
	case errUnavailable:
		return http.StatusServiceUnavailable
	case errNotFound:
		return http.StatusNotFound
	case errMethod:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

func invalid(format string, args ...any) error {
	return &backendError{kind: errInvalid, msg: fmt.Sprintf(format, args...)}
}

func unavailable(msg string, err error) error {
	return &backendError{kind: errUnavailable, msg: msg, err: err}
}

// statusOf maps any error to its HTTP status; errors not classified are internal (500).
func statusOf(err error) int {
	var be *backendError
	if errors.As(err, &be) {
		return be.status()
	}
	if errors.Is(err, errBatcherClosed) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeJSON writes v with status; a value that cannot be encoded (a NaN in a vector) becomes a 500 with a
// JSON error, so the client always gets JSON it can parse.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]string{"error": "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// writeTransformersError answers in the shape Weaviate's transformers client parses whatever the status:
// it unmarshals the body into its request struct and reports the "error" string.
func writeTransformersError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
}

// embeddingsError carries the message in every field a client of this endpoint may read: Weaviate's nvidia
// client reads "message" on 400, "detail" on 402 and "title" on 500; OpenAI clients read error.message.
type embeddingsError struct {
	Object  string            `json:"object"`
	Message string            `json:"message"`
	Title   string            `json:"title"`
	Detail  string            `json:"detail"`
	Error   embeddingsErrBody `json:"error"`
}

type embeddingsErrBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

func writeEmbeddingsError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	typ := "server_error"
	if status >= 400 && status < 500 {
		typ = "invalid_request_error"
	}
	msg := err.Error()
	writeJSON(w, status, embeddingsError{
		Object: "error", Message: msg, Title: msg, Detail: msg,
		Error: embeddingsErrBody{Message: msg, Type: typ},
	})
}
