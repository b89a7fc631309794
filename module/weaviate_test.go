package module

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// This file replays Weaviate v1.35.2's two clients as the source has them, so the service is tested
// against the exact bytes and headers they send and the exact way they read the answer.

// wvVecRequest and wvVecRequestConfig are copied from weaviate v1.35.2
// usecases/modulecomponents/clients/transformers/transformers.go lines 47-59 (field names, tags, types).
type wvVecRequest struct {
	Text   string             `json:"text"`
	Dims   int                `json:"dims"`
	Vector []float32          `json:"vector"`
	Error  string             `json:"error"`
	Config wvVecRequestConfig `json:"config"`
}

type wvVecRequestConfig struct {
	PoolingStrategy string `json:"pooling_strategy,omitempty"`
	TaskType        string `json:"task_type,omitempty"`
	Dimensions      *int64 `json:"dimensions,omitempty"`
}

// wvEmbeddingsRequest and wvEmbeddingsResponse are copied from weaviate v1.35.2
// usecases/modulecomponents/clients/nvidia/nvidia.go lines 48-79.
type wvEmbeddingsRequest struct {
	Input          []string `json:"input,omitempty"`
	Model          string   `json:"model,omitempty"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
	InputType      *string  `json:"input_type,omitempty"`
	Truncate       *string  `json:"truncate,omitempty"`
}

type wvEmbeddingsResponse struct {
	ID    string `json:"id"`
	Model string `json:"model,omitempty"`
	Data  []struct {
		Object    string    `json:"object,omitempty"`
		Index     int64     `json:"index,omitempty"`
		Embedding []float32 `json:"embedding,omitempty"`
	} `json:"data,omitempty"`
	Usage *struct {
		PromptTokens int64 `json:"prompt_tokens,omitempty"`
		TotalTokens  int64 `json:"total_tokens,omitempty"`
	} `json:"usage,omitempty"`
}

type wvEmbeddingsErrorResponse struct {
	Object  string `json:"object,omitempty"`
	Message string `json:"message,omitempty"`
	Title   string `json:"title,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "weaviate-v1.35.2", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// weaviateTransformers replays transformers.go vectorize (lines 119-167): POST {base}/vectors with the
// marshalled body and no header of its own (so no Content-Type), then unmarshal the answer into vecRequest
// whatever the status, and on a status other than 200 report resBody.Error.
func weaviateTransformers(ctx context.Context, client *http.Client, base string, body []byte) (*wvVecRequest, int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/vectors", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("send POST request: %w", err)
	}
	defer res.Body.Close()
	bodyBytes, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, res.StatusCode, err
	}
	var resBody wvVecRequest
	if err := json.Unmarshal(bodyBytes, &resBody); err != nil {
		return nil, res.StatusCode, fmt.Errorf("unmarshal response body. Got: %v: %w", string(bodyBytes), err)
	}
	if res.StatusCode != 200 {
		return &resBody, res.StatusCode, fmt.Errorf("fail with status %d: %s", res.StatusCode, resBody.Error)
	}
	return &resBody, res.StatusCode, nil
}

// weaviateCheckReady replays transformers.go CheckReady (lines 169-193): GET with a 500ms timeout, any
// status above 299 is "not ready".
func weaviateCheckReady(ctx context.Context, client *http.Client, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("send check ready request: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode > 299 {
		return fmt.Errorf("not ready: status %d", res.StatusCode)
	}
	return nil
}

// weaviateMeta replays transformers.go MetaInfo (lines 195-220).
func weaviateMeta(client *http.Client, endpoint string) (map[string]any, error) {
	res, err := client.Get(endpoint)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("unexpected status code '%d' of meta request", res.StatusCode)
	}
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// weaviateNvidia replays nvidia.go Vectorize (lines 104-159) and getResponseError (lines 199-218):
// Authorization, Accept and Content-Type headers (lines 122-124); vectors taken from data in order (index is ignored).
func weaviateNvidia(ctx context.Context, client *http.Client, base, apiKey string, body []byte) ([][]float32, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Add("Authorization", fmt.Sprintf("Bearer %s", apiKey))
	req.Header.Add("Accept", "application/json")
	req.Header.Add("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	bodyBytes, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, res, err
	}
	if res.StatusCode != 200 {
		switch res.StatusCode {
		case 400, 402, 422, 500:
			var eb wvEmbeddingsErrorResponse
			if err := json.Unmarshal(bodyBytes, &eb); err != nil {
				return nil, res, fmt.Errorf("connection to NVIDIA API failed with status: %d: unmarshal response body: %w", res.StatusCode, err)
			}
			msg := eb.Title
			switch res.StatusCode {
			case 400:
				msg = eb.Message
			case 402:
				msg = eb.Detail
			}
			return nil, res, fmt.Errorf("connection to NVIDIA API failed with status: %d error: %s", res.StatusCode, msg)
		default:
			return nil, res, fmt.Errorf("connection to NVIDIA API failed with status: %d", res.StatusCode)
		}
	}
	var rb wvEmbeddingsResponse
	if err := json.Unmarshal(bodyBytes, &rb); err != nil {
		return nil, res, err
	}
	if len(rb.Data) == 0 {
		return nil, res, fmt.Errorf("empty embeddings response")
	}
	vecs := make([][]float32, len(rb.Data))
	for i := range rb.Data {
		vecs[i] = rb.Data[i].Embedding
	}
	return vecs, res, nil
}

// headerLog records the headers of every request the service receives, to show what a client really sent.
type headerLog struct {
	mu   sync.Mutex
	next http.Handler
	got  []http.Header
}

func (h *headerLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.got = append(h.got, r.Header.Clone())
	h.mu.Unlock()
	h.next.ServeHTTP(w, r)
}

func (h *headerLog) last() http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[len(h.got)-1]
}

// TestFixturesAreWeaviateMarshalling proves the committed fixtures are byte for byte what json.Marshal
// of the copied Weaviate structs produces for the same values, as the clients build them.
func TestFixturesAreWeaviateMarshalling(t *testing.T) {
	dims := int64(8)
	passage, query, none := "passage", "query", "NONE"
	cases := []struct {
		file string
		v    any
	}{
		{"transformers_passage.json", wvVecRequest{Text: "passage The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.",
			Config: wvVecRequestConfig{PoolingStrategy: "masked_mean", TaskType: "passage"}}},
		{"transformers_query.json", wvVecRequest{Text: "エッフェル塔はどこにありますか",
			Config: wvVecRequestConfig{PoolingStrategy: "masked_mean", TaskType: "query"}}},
		{"transformers_dimensions.json", wvVecRequest{Text: "passage Tokyo Tower is a communications and observation tower in Minato, Tokyo.",
			Config: wvVecRequestConfig{PoolingStrategy: "masked_mean", TaskType: "passage", Dimensions: &dims}}},
		{"nvidia_passage.json", wvEmbeddingsRequest{Input: []string{
			"passage The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.",
			"passage Tokyo Tower is a communications and observation tower in Minato, Tokyo."},
			Model: "nvidia/nv-embed-v1", EncodingFormat: "float", InputType: &passage, Truncate: &none}},
		{"nvidia_query.json", wvEmbeddingsRequest{Input: []string{"где находится Эйфелева башня"},
			Model: "nvidia/nv-embed-v1", EncodingFormat: "float", InputType: &query, Truncate: &none}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			want, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := fixture(t, c.file); !bytes.Equal(got, want) {
				t.Errorf("fixture differs from Weaviate's marshalling:\n got %s\nwant %s", got, want)
			}
		})
	}
}
