package ingest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

func readAll(t *testing.T, path, format string, offset, records int64) []record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := openReader(f, path, format, offset, records)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	for {
		r, err := rd.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func summary(recs []record) []string {
	var out []string
	for _, r := range recs {
		if r.err != nil {
			out = append(out, "ERR "+r.err.Error())
			continue
		}
		p := r.passage
		out = append(out, fmt.Sprintf("%s|%s|%s|%v|%v", p.ID, p.Title, p.Text, p.Queries, p.Extra))
	}
	return out
}

func TestJSONL(t *testing.T) {
	recs := readAll(t, "testdata/passages.jsonl", FormatJSONL, 0, 0)
	want := []string{
		"p1|One|First passage.|map[]|map[score:0.5 tags:[a b] url:https://example.org/1 year:2020]",
		"2||Second passage, no title.|map[fi:[mikä on toinen?] ja:[二番目は何ですか]]|map[]",
		"ERR testdata/passages.jsonl:4: text: want a string, got json.Number",
		"ERR testdata/passages.jsonl:5: not a JSON object: invalid character 'o' in literal null (expecting 'u')",
		"ERR testdata/passages.jsonl:6: passage_id: reserved (the object's copy of id); rename the field",
		`p6|Six|Sixth.|map[]|map[nested:{"k":1}]`,
	}
	if got := summary(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := recs[0].passage.Extra["tags"].([]string); !ok {
		t.Errorf("a string array must stay []string for the gRPC batcher, got %T", recs[0].passage.Extra["tags"])
	}
	if _, ok := recs[0].passage.Extra["year"].(int64); !ok {
		t.Errorf("an integer must become int64, got %T", recs[0].passage.Extra["year"])
	}

	// Resuming at a record's end offset gives exactly the records after it.
	rest := readAll(t, "testdata/passages.jsonl", FormatJSONL, recs[1].end, 2)
	if got := summary(rest); !reflect.DeepEqual(got, want[2:]) {
		t.Errorf("resumed at %d:\n%s", recs[1].end, strings.Join(got, "\n"))
	}
}

func TestTSV(t *testing.T) {
	recs := readAll(t, "testdata/psgs.tsv", FormatTSV, 0, 0)
	want := []string{
		`1|Aaron|Aaron Aaron ( or ; "Ahärôn") is a prophet|map[]|map[]`,
		"2|Second|Plain text, with a comma|map[]|map[]",
		"ERR testdata/psgs.tsv: line 4: text: empty",
		"4|Four|Multi\nline|map[]|map[]",
	}
	if got := summary(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n%q\nwant:\n%q", got, want)
	}
	rest := readAll(t, "testdata/psgs.tsv", FormatTSV, recs[0].end, 1)
	if got := summary(rest); !reflect.DeepEqual(got[0], want[1]) || len(got) != 3 {
		t.Errorf("resumed at %d: %q", recs[0].end, got)
	}
}

func TestTSVBadHeader(t *testing.T) {
	path := t.TempDir() + "/x.tsv"
	if err := os.WriteFile(path, []byte("id\tbody\n1\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	_, err := openReader(f, path, FormatTSV, 0, 0)
	if err == nil || !strings.Contains(err.Error(), `no "text" column`) {
		t.Fatalf("err = %v", err)
	}
}

func TestWeaviateText(t *testing.T) {
	for _, tt := range []struct{ title, text, want string }{
		{"T", "body", "body T"}, {"", "body", "body"}, {"T", "", "T"},
	} {
		if got := (Passage{Title: tt.title, Text: tt.text}).WeaviateText(); got != tt.want {
			t.Errorf("WeaviateText(%q,%q) = %q, want %q", tt.title, tt.text, got, tt.want)
		}
	}
}

func TestShard(t *testing.T) {
	for _, bad := range []string{"", "1", "2/2", "-1/3", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	const n = 3
	counts := make([]int, n)
	for i := range 3000 {
		id := fmt.Sprint(i)
		owners := 0
		for s := range n {
			if (Shard{s, n}).Contains(id) {
				owners++
				counts[s]++
			}
		}
		if owners != 1 {
			t.Fatalf("passage %s owned by %d shards", id, owners)
		}
	}
	for s, c := range counts {
		if c < 900 || c > 1100 {
			t.Errorf("shard %d got %d of 3000", s, c)
		}
	}
	// The partition is part of the on-disk contract (checkpoints per shard): pin it.
	if !(Shard{1, 3}).Contains("1") || (Shard{0, 3}).Contains("1") {
		t.Error("FNV-1a partition changed")
	}
}

func TestObjectID(t *testing.T) {
	a, b := ObjectID("wiki:1"), ObjectID("wiki:1")
	if a != b || a == ObjectID("wiki:2") {
		t.Fatalf("ids not deterministic/distinct: %s %s", a, ObjectID("wiki:2"))
	}
	if a[14] != '5' {
		t.Errorf("want a version-5 UUID, got %s", a)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := CheckpointPath(dir, "/data/psgs.tsv", "Passage", Shard{1, 4})
	if !strings.HasSuffix(p, ".shard-1-of-4.checkpoint.json") || FailedPath(p) == p {
		t.Fatalf("path %s", p)
	}
	if c, err := LoadCheckpoint(p); c != nil || err != nil {
		t.Fatalf("missing checkpoint: %v %v", c, err)
	}
	c := &Checkpoint{Input: "/data/psgs.tsv", Collection: "Passage", Shard: "1/4", Offset: 10, InputSize: 40, Imported: 3}
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(p)
	if err != nil || got.Offset != 10 || got.Imported != 3 || got.Progress() != 0.25 {
		t.Fatalf("loaded %+v %v", got, err)
	}
	all, err := ListCheckpoints(dir)
	if err != nil || len(all) != 1 {
		t.Fatalf("list %v %v", all, err)
	}
	if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(p); err == nil || !strings.Contains(err.Error(), "--restart") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
}

// The failed file must be a valid input: its records parse back to the same passages.
func TestFailedFileIsInput(t *testing.T) {
	path := t.TempDir() + "/failed.jsonl"
	ff, err := openFailed(path, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	in := readAll(t, "testdata/passages.jsonl", FormatJSONL, 0, 0)
	for _, r := range in {
		if err := ff.write(failure{rec: r, reason: "service down"}); err != nil {
			t.Fatal(err)
		}
	}
	ff.close()
	back := readAll(t, path, FormatJSONL, 0, 0)
	var wantOK, gotOK []string
	for _, s := range summary(in) {
		if !strings.HasPrefix(s, "ERR") {
			wantOK = append(wantOK, s)
		}
	}
	for _, s := range summary(back) {
		if !strings.HasPrefix(s, "ERR") {
			gotOK = append(gotOK, s)
		}
	}
	if !reflect.DeepEqual(gotOK, wantOK) {
		t.Errorf("round trip:\n%s\nwant:\n%s", strings.Join(gotOK, "\n"), strings.Join(wantOK, "\n"))
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), `"_xqg_error":"service down"`) != len(in) {
		t.Errorf("reasons missing:\n%s", b)
	}
}
