// Package eval scores cross-lingual retrieval: XOR-TyDi's R@2kt/R@5kt
// exactly as the official eval_xor_retrieve.py computes them, Recall@k,
// MRR@10 and nDCG@10 where relevance labels exist, paired significance
// tests between two vectors, and reports (JSON, markdown, charts). It loads
// the XOR-TyDi, DPR wiki TSV, XQuAD, NTREX-128 and Tatoeba formats.
//
// Retrieval itself is behind the Retriever interface so that the same
// evaluation runs over Weaviate (both named vectors of one collection) or
// over a run made elsewhere.
package eval

import "context"

// Passage is one corpus entry.
type Passage struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// Query is one evaluation question. Answers (English answer strings) enable
// the XOR answer-match metric; Relevant (passage id -> graded relevance > 0)
// enables Recall@k, MRR and nDCG.
type Query struct {
	ID       string         `json:"id"`
	Text     string         `json:"question"`
	Lang     string         `json:"lang"`
	Answers  []string       `json:"answers,omitempty"`
	Relevant map[string]int `json:"relevant,omitempty"`
}

// Hit is one ranked search result.
type Hit struct {
	ID       string  `json:"id"`
	Title    string  `json:"title,omitempty"`
	Text     string  `json:"text"`
	Distance float64 `json:"distance"`
}

// Retriever searches one target (a named vector such as "xqg" or
// "passage") for the k nearest passages to query, best first.
type Retriever interface {
	Search(ctx context.Context, target, query string, k int) ([]Hit, error)
}

// Ranking is the retrieved list for one query on one target.
type Ranking struct {
	QueryID string `json:"id"`
	Lang    string `json:"lang"`
	Hits    []Hit  `json:"hits"`
}
