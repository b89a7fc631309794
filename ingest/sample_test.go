package ingest

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/xqg/xqg/config"
)

// The demo's sample corpus is valid ingest input and every question points at one of its passages,
// in one of the seven languages, with every passage asked in at least two.
func TestSampleCorpus(t *testing.T) {
	const dir = "../examples/sample/"
	recs := readAll(t, dir+"passages.jsonl", FormatJSONL, 0, 0)
	ids := map[string]int{}
	for _, r := range recs {
		if r.err != nil {
			t.Fatal(r.err)
		}
		ids[r.passage.ID] = 0
	}
	if len(ids) != len(recs) || len(recs) < 30 {
		t.Fatalf("%d passages, %d distinct ids", len(recs), len(ids))
	}
	f, err := os.Open(dir + "questions.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var q struct {
			ID, Lang, Question string
			PassageID          string `json:"passage_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatalf("questions.jsonl:%d: %v", line, err)
		}
		if _, ok := config.Languages[q.Lang]; !ok || q.Question == "" || q.ID == "" {
			t.Errorf("questions.jsonl:%d: %+v", line, q)
		}
		if _, ok := ids[q.PassageID]; !ok {
			t.Errorf("questions.jsonl:%d: unknown passage %q", line, q.PassageID)
		}
		ids[q.PassageID]++
	}
	for id, n := range ids {
		if n < 2 {
			t.Errorf("passage %s has %d questions, want at least 2", id, n)
		}
	}
}
