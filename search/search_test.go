package search

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/weaviate/weaviate/entities/models"
)

func TestParseHits(t *testing.T) {
	raw := `{"data":{"Get":{"Passage":[
	  {"passage_id":"s08","title":"Penicillin","text":"In 1928 ...","_additional":{"id":"a","distance":0.125}},
	  {"passage_id":"s01","title":"Bees","text":"Honey ...","_additional":{"id":"b","score":"0.5","vectors":{"xqg":[1,2],"passage":[3,4]}}}]}}}`
	var resp models.GraphQLResponse
	if err := json.Unmarshal([]byte(raw), &resp); err != nil {
		t.Fatal(err)
	}
	hits, err := parseHits(&resp, "Passage")
	if err != nil || len(hits) != 2 {
		t.Fatalf("%v %v", hits, err)
	}
	if h := hits[0]; h.Rank != 1 || h.PassageID != "s08" || h.Distance == nil || *h.Distance != 0.125 || h.Score != nil {
		t.Errorf("hit 1: %+v", h)
	}
	if h := hits[1]; h.Rank != 2 || h.Score == nil || *h.Score != 0.5 || h.Vectors["passage"][1] != 4 {
		t.Errorf("hit 2: %+v", h)
	}

	resp = models.GraphQLResponse{Errors: []*models.GraphQLError{{Message: "no such class"}}}
	if _, err := parseHits(&resp, "Passage"); err == nil || !strings.Contains(err.Error(), "no such class") {
		t.Errorf("GraphQL error not reported: %v", err)
	}
}

func TestQueryValidation(t *testing.T) {
	for _, tt := range []struct {
		req  Request
		want string
	}{
		{Request{}, "no collection"},
		{Request{Collection: "P", Text: "x", Target: "other"}, `--target "other"`},
		{Request{Collection: "P", Text: "  "}, "empty text"},
		{Request{Collection: "P", Mode: NearVector}, "without a vector"},
		{Request{Collection: "P", Mode: "bm25", Text: "x"}, `mode "bm25"`},
	} {
		// Validation happens before the client is used.
		if _, err := Query(context.Background(), nil, tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.req, err, tt.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	if got := Snippet("short  text\n", 20); got != "short text" {
		t.Errorf("%q", got)
	}
	if got := Snippet("The Nile is one of the longest rivers in the world", 20); got != "The Nile is one of…" {
		t.Errorf("%q", got)
	}
	if got := Snippet("ミツバチはどのようにして花の場所を仲間に伝えますか", 5); got != "ミツバチは…" {
		t.Errorf("%q", got)
	}
}
