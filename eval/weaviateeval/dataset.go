package weaviateeval

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xqg/xqg/eval"
)

// Dataset kinds LoadDataset knows.
const (
	XQuAD   = "xquad"
	XOR     = "xor"
	NTREX   = "ntrex"
	Tatoeba = "tatoeba"
)

// Kinds lists the dataset kinds.
var Kinds = []string{XQuAD, XOR, NTREX, Tatoeba}

// XORLangs are the seven XOR-TyDi languages, the default for NTREX and Tatoeba.
var XORLangs = []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"}

// Source says where a dataset is.
type Source struct {
	Kind string
	// Dir holds the files of XQuAD, NTREX-128 or Tatoeba.
	Dir string
	// Queries is the XOR-TyDi retrieve jsonl (Kind XOR).
	Queries string
	// Langs keeps these languages; empty = every language the dataset has (XQuAD: every
	// xquad.<lang>.json but English; NTREX, Tatoeba: XORLangs).
	Langs []string
	// NTREXDocs makes NTREX's corpus the documents of DOCUMENT_IDS.tsv instead of sentences.
	NTREXDocs bool
}

// LoadDataset reads the corpus and the queries of every language of src. Languages share one
// corpus (XQuAD, NTREX: the same English side; Tatoeba: the union of each pair's English side,
// whose passage ids differ per pair). XQuAD's query ids become "<question id>/<lang>", unique
// across languages. XOR-TyDi has no corpus here: it is the DPR wiki TSV,
// ingested from its file.
func LoadDataset(src Source) (*eval.Dataset, error) {
	langs := src.Langs
	switch src.Kind {
	case XOR:
		if src.Queries == "" {
			return nil, fmt.Errorf("xor: no queries file")
		}
		qs, err := eval.LoadXORJSONL(src.Queries)
		if err != nil {
			return nil, err
		}
		d := &eval.Dataset{Name: "xor-tydi"}
		keep := set(langs)
		for _, q := range qs {
			if len(keep) == 0 || keep[q.Lang] {
				d.Queries = append(d.Queries, q)
			}
		}
		if len(d.Queries) == 0 {
			return nil, fmt.Errorf("%s: no questions in languages %s", src.Queries, strings.Join(langs, ","))
		}
		return d, nil
	case XQuAD:
		if len(langs) == 0 {
			files, _ := filepath.Glob(filepath.Join(src.Dir, "xquad.*.json"))
			for _, f := range files {
				l := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "xquad."), ".json")
				if l != "en" {
					langs = append(langs, l)
				}
			}
			sort.Strings(langs)
			if len(langs) == 0 {
				return nil, fmt.Errorf("xquad: no xquad.<lang>.json besides English in %s", src.Dir)
			}
		}
	case NTREX, Tatoeba:
		if len(langs) == 0 {
			langs = XORLangs
		}
	default:
		return nil, fmt.Errorf("dataset %q: want one of %s", src.Kind, strings.Join(Kinds, ", "))
	}
	if st, err := os.Stat(src.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: data folder %q not found", src.Kind, src.Dir)
	}
	out := &eval.Dataset{Name: src.Kind}
	seen := map[string]bool{}
	for _, l := range langs {
		var d *eval.Dataset
		var err error
		switch src.Kind {
		case XQuAD:
			d, err = eval.LoadXQuAD(src.Dir, l)
		case NTREX:
			d, err = eval.LoadNTREX(src.Dir, l, src.NTREXDocs)
		case Tatoeba:
			d, err = eval.LoadTatoeba(src.Dir, l)
		}
		if err != nil {
			return nil, err
		}
		for _, p := range d.Corpus {
			if !seen[p.ID] {
				seen[p.ID] = true
				out.Corpus = append(out.Corpus, p)
			}
		}
		for _, q := range d.Queries {
			if src.Kind == XQuAD {
				// XQuAD's question ids are the same in every language.
				q.ID += "/" + l
			}
			out.Queries = append(out.Queries, q)
		}
	}
	return out, nil
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Limit keeps the first maxPassages passages of the corpus (0 = all) and the queries whose relevant
// passages are all kept, then at most maxQueries queries per language (0 = all), in order. It is how
// a quick run evaluates on a slice of a dataset without dangling relevance labels.
func Limit(d *eval.Dataset, maxPassages, maxQueries int) *eval.Dataset {
	out := &eval.Dataset{Name: d.Name, Corpus: d.Corpus}
	kept := map[string]bool{}
	if maxPassages > 0 && maxPassages < len(d.Corpus) {
		out.Corpus = d.Corpus[:maxPassages]
	}
	for _, p := range out.Corpus {
		kept[p.ID] = true
	}
	perLang := map[string]int{}
	for _, q := range d.Queries {
		ok := true
		if len(d.Corpus) > 0 {
			for id := range q.Relevant {
				ok = ok && kept[id]
			}
		}
		if !ok || (maxQueries > 0 && perLang[q.Lang] >= maxQueries) {
			continue
		}
		perLang[q.Lang]++
		out.Queries = append(out.Queries, q)
	}
	return out
}
