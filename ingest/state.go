package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Shard is part I of N of the input (0 ≤ I < N): the passages whose id hashes to I.
type Shard struct{ I, N int }

// All is the whole input.
var All = Shard{0, 1}

// ParseShard parses "I/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", s)
	}
	return Shard{i, n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Contains reports whether the passage belongs to this shard. FNV-1a of the id: stable across runs,
// machines and Go versions, so N workers always split the input the same way.
func (s Shard) Contains(id string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()%uint64(s.N) == uint64(s.I)
}

// namespace of the passage UUIDs: v5 of a fixed URL, so every xqg computes the same ids.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/xqg/xqg/passage"))

// ObjectID is the Weaviate object UUID of a passage id (UUID v5): re-imports overwrite, never duplicate.
func ObjectID(passageID string) string {
	return uuid.NewSHA1(namespace, []byte(passageID)).String()
}

// Checkpoint is the committed progress of one ingest of one input file (one shard of it) into one
// collection. Everything before Offset is imported or recorded in the failed file.
type Checkpoint struct {
	Input      string    `json:"input"`
	InputSize  int64     `json:"input_size"`
	InputMTime time.Time `json:"input_mtime"`
	Collection string    `json:"collection"`
	Shard      string    `json:"shard"`
	Offset     int64     `json:"offset"`
	Records    int64     `json:"records"`
	Imported   int64     `json:"imported"`
	Failed     int64     `json:"failed"`
	OtherShard int64     `json:"other_shard"`
	// FailedSize is the failed file's size at this checkpoint: a resumed run truncates it back, so a
	// batch redone after a crash is not recorded twice.
	FailedSize int64     `json:"failed_size"`
	FailedFile string    `json:"failed_file"`
	Done       bool      `json:"done"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`
}

// CheckpointPath is where the checkpoint of input (absolute), collection and shard lives in dir.
func CheckpointPath(dir, input, collection string, shard Shard) string {
	sum := sha256.Sum256([]byte(input + "\x00" + collection))
	name := fmt.Sprintf("%s-%s-%s", filepath.Base(input), collection, hex.EncodeToString(sum[:4]))
	if shard.N > 1 {
		name += fmt.Sprintf(".shard-%d-of-%d", shard.I, shard.N)
	}
	return filepath.Join(dir, name+".checkpoint.json")
}

// FailedPath is the default failed-objects file next to a checkpoint.
func FailedPath(checkpointPath string) string {
	return strings.TrimSuffix(checkpointPath, ".checkpoint.json") + ".failed.jsonl"
}

// LoadCheckpoint reads a checkpoint; a missing file is (nil, nil).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w (delete it or pass --restart)", path, err)
	}
	return &c, nil
}

// Save writes the checkpoint atomically (temp file, fsync, rename), so a crash leaves the old or the new one.
func (c *Checkpoint) Save(path string) error {
	c.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("checkpoint folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// ListCheckpoints reads every checkpoint in dir, sorted by input, collection and shard.
func ListCheckpoints(dir string) ([]Checkpoint, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.checkpoint.json"))
	if err != nil {
		return nil, err
	}
	var out []Checkpoint
	for _, p := range paths {
		c, err := LoadCheckpoint(p)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Input != b.Input {
			return a.Input < b.Input
		}
		if a.Collection != b.Collection {
			return a.Collection < b.Collection
		}
		return a.Shard < b.Shard
	})
	return out, nil
}

// Progress is the share of the input the checkpoint has passed, 0..1.
func (c Checkpoint) Progress() float64 {
	if c.Done || c.InputSize == 0 {
		if c.Done {
			return 1
		}
		return 0
	}
	return float64(c.Offset) / float64(c.InputSize)
}
