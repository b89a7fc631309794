package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ReadRun reads a run in the official XOR-Retrieve submission format: a
// JSON array of {"id","lang","ctxs":[passage text, ...]}. As a
// convenience, a ctxs element may also be a DPR-style object with a "text"
// field (the official script only accepts strings).
func ReadRun(r io.Reader, name string) ([]RunEntry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var raw []struct {
		ID   *string           `json:"id"`
		Lang *string           `json:"lang"`
		Ctxs []json.RawMessage `json:"ctxs"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of {\"id\",\"lang\",\"ctxs\"}: %w", name, err)
	}
	out := make([]RunEntry, 0, len(raw))
	for i, e := range raw {
		switch {
		case e.ID == nil:
			return nil, fmt.Errorf("%s: [%d]: missing \"id\"", name, i)
		case e.Lang == nil:
			return nil, fmt.Errorf("%s: [%d] (id %s): missing \"lang\"", name, i, *e.ID)
		case e.Ctxs == nil:
			return nil, fmt.Errorf("%s: [%d] (id %s): missing \"ctxs\"", name, i, *e.ID)
		}
		re := RunEntry{ID: *e.ID, Lang: *e.Lang, Ctxs: make([]string, len(e.Ctxs))}
		for j, c := range e.Ctxs {
			c = bytes.TrimSpace(c)
			if len(c) > 0 && c[0] == '{' {
				var obj struct {
					Text *string `json:"text"`
				}
				if err := json.Unmarshal(c, &obj); err != nil || obj.Text == nil {
					return nil, fmt.Errorf("%s: [%d].ctxs[%d] (id %s): object without a string \"text\"", name, i, j, *e.ID)
				}
				re.Ctxs[j] = *obj.Text
				continue
			}
			if err := json.Unmarshal(c, &re.Ctxs[j]); err != nil {
				return nil, fmt.Errorf("%s: [%d].ctxs[%d] (id %s): want a passage text string: %w", name, i, j, *e.ID, err)
			}
		}
		out = append(out, re)
	}
	return out, nil
}

// LoadRun reads a run file (see ReadRun).
func LoadRun(path string) ([]RunEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	defer f.Close()
	return ReadRun(f, path)
}

// RunFromRankings converts rankings to the submission format (passage
// texts in rank order).
func RunFromRankings(rs []Ranking) []RunEntry {
	out := make([]RunEntry, 0, len(rs))
	for _, r := range rs {
		e := RunEntry{ID: r.QueryID, Lang: r.Lang, Ctxs: make([]string, len(r.Hits))}
		for i, h := range r.Hits {
			e.Ctxs[i] = h.Text
		}
		out = append(out, e)
	}
	return out
}

// WriteRun writes run in the submission format.
func WriteRun(w io.Writer, run []RunEntry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if run == nil {
		run = []RunEntry{}
	}
	return enc.Encode(run)
}
