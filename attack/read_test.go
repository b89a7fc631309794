package attack

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/xqg/xqg/eval"
)

func TestJSONLRoundTrip(t *testing.T) {
	qs := []eval.Query{
		{ID: "1", Text: "Mikä on Suomen pääkaupunki?", Lang: "fi", Answers: []string{"Helsinki"}, Relevant: map[string]int{"p1": 1}},
		{ID: "2", Text: "ما هي عاصمة فنلندا؟", Lang: "ar", Answers: []string{"Helsinki"}},
	}
	as, _, err := Generate(context.Background(), qs, []Type{Delete, WordSwap}, 5, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, as); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSONL(&buf, "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, as) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, as)
	}
	bad := []struct{ in, want string }{
		{`{"id":"1#delete","question":"x","lang":"fi","attack":"delete"}`, "x.jsonl:1: id 1#delete: missing \"orig_id\""},
		{`{"id":"1#x","question":"x","lang":"fi","attack":"zap","orig_id":"1"}`, "\"attack\" \"zap\""},
		{`{"question":"x"}`, "missing \"id\""},
		{`{"id":"a","orig_id":"1","attack":"delete"}`, "missing \"lang\""},
		{"\n" + `{"id":"a","orig_id":"1","attack":"delete","lang":"fi"}` + "\n" + `{"id":"a","orig_id":"1","attack":"delete","lang":"fi"}`, "x.jsonl:3: id a already on line 2"},
		{`[1]`, "x.jsonl:1:"},
	}
	for _, c := range bad {
		if _, err := ReadJSONL(strings.NewReader(c.in), "x.jsonl"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadJSONL(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}
