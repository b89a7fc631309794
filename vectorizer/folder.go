package vectorizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/xqg/xqg/internal/cachedir"
)

// Files of an Optimum encoder export (`optimum-cli export onnx --task feature-extraction`).
const (
	ModelFile     = "model.onnx"
	TokenizerFile = "tokenizer.json"
	ConfigFile    = "config.json"
	PoolingFile   = "1_Pooling/config.json"
)

// hfConfig is the part of a transformers config.json the encoder needs.
type hfConfig struct {
	ModelType             string `json:"model_type"`
	HiddenSize            int    `json:"hidden_size"`
	DModel                int    `json:"d_model"`
	PadTokenID            *int   `json:"pad_token_id"`
	MaxPositionEmbeddings int    `json:"max_position_embeddings"`
}

// stPooling is sentence-transformers' 1_Pooling/config.json.
type stPooling struct {
	WordEmbeddingDimension int  `json:"word_embedding_dimension"`
	CLS                    bool `json:"pooling_mode_cls_token"`
	Mean                   bool `json:"pooling_mode_mean_tokens"`
	Max                    bool `json:"pooling_mode_max_tokens"`
	MeanSqrtLen            bool `json:"pooling_mode_mean_sqrt_len_tokens"`
	WeightedMean           bool `json:"pooling_mode_weightedmean_tokens"`
	LastToken              bool `json:"pooling_mode_lasttoken"`
}

// RequireFile returns an error naming path if it is missing or not a regular file.
func RequireFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	return nil
}

// ReadJSON decodes path into v, naming the file in every error.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing", path)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	return nil
}

// readPooling returns "" when the folder has no pooling file, else cls or mean.
func readPooling(dir string) (string, error) {
	path := filepath.Join(dir, PoolingFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	var p stPooling
	if err := ReadJSON(path, &p); err != nil {
		return "", err
	}
	switch {
	case p.Max || p.MeanSqrtLen || p.WeightedMean || p.LastToken:
		return "", fmt.Errorf("%s: only pooling_mode_cls_token or pooling_mode_mean_tokens is supported", path)
	case p.CLS && p.Mean:
		return "", fmt.Errorf("%s: both cls and mean pooling set; choose one with encoder.pooling", path)
	case p.CLS:
		return "cls", nil
	case p.Mean:
		return "mean", nil
	}
	return "", fmt.Errorf("%s: no pooling mode set", path)
}

// HashFiles is the hex sha256 over the given files' contents, those that exist, in order; it
// identifies a model (model.onnx plus its external-data file, if any) independently of its path.
// Hashing gigabytes takes seconds, so the result is remembered in the cache folder under the
// files' paths, sizes and modification times, and recomputed when any of them changes.
func HashFiles(paths ...string) (string, error) {
	stamp := sha256.New()
	var size int64
	for _, p := range paths {
		abs, _ := filepath.Abs(p)
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(stamp, "%s\x00%d\x00%d\x00", abs, st.Size(), st.ModTime().UnixNano())
			size += st.Size()
		}
	}
	if size < memoMinSize {
		return hashContents(paths)
	}
	memo := cachedir.Sub("model-ids", hex.EncodeToString(stamp.Sum(nil)))
	if b, err := os.ReadFile(memo); err == nil && len(b) == 64 {
		if _, err := hex.DecodeString(string(b)); err == nil {
			return string(b), nil
		}
	}
	sum, err := hashContents(paths)
	if err != nil {
		return "", err
	}
	// Best effort: a cache folder that cannot be written only costs rehashing next time.
	if os.MkdirAll(filepath.Dir(memo), 0o755) == nil {
		if f, err := os.CreateTemp(filepath.Dir(memo), ".tmp-*"); err == nil {
			_, werr := f.WriteString(sum)
			if f.Close() == nil && werr == nil {
				_ = os.Rename(f.Name(), memo)
			}
			_ = os.Remove(f.Name())
		}
	}
	return sum, nil
}

// memoMinSize is the total size below which hashing is faster than remembering (and tests'
// temporary models leave nothing behind).
var memoMinSize int64 = 64 << 20

func hashContents(paths []string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
