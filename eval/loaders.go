package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Dataset is a corpus with queries whose relevance points into it.
type Dataset struct {
	Name    string    `json:"name"`
	Corpus  []Passage `json:"corpus"`
	Queries []Query   `json:"queries"`
}

// Answers maps query id to answers (for XORScorer.Score).
func (d *Dataset) Answers() map[string][]string {
	m := make(map[string][]string, len(d.Queries))
	for _, q := range d.Queries {
		if q.Answers != nil {
			m[q.ID] = q.Answers
		}
	}
	return m
}

// LoadXORJSONL reads XOR-TyDi retrieve questions
// ({"id","question","answers":[...],"lang"} per line).
func LoadXORJSONL(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("xor-tydi: %w", err)
	}
	defer f.Close()
	return ReadXORJSONL(f, path)
}

// ReadXORJSONL is LoadXORJSONL on a reader; name labels errors.
func ReadXORJSONL(r io.Reader, name string) ([]Query, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []Query
	seen := map[string]int{}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var raw struct {
				ID       *string   `json:"id"`
				Question *string   `json:"question"`
				Answers  *[]string `json:"answers"`
				Lang     *string   `json:"lang"`
			}
			if jerr := json.Unmarshal(line, &raw); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n, jerr)
			}
			switch {
			case raw.ID == nil || *raw.ID == "":
				return nil, fmt.Errorf("%s:%d: missing \"id\"", name, n)
			case raw.Question == nil:
				return nil, fmt.Errorf("%s:%d: id %s: missing \"question\"", name, n, *raw.ID)
			case raw.Lang == nil || *raw.Lang == "":
				return nil, fmt.Errorf("%s:%d: id %s: missing \"lang\"", name, n, *raw.ID)
			}
			if prev, dup := seen[*raw.ID]; dup {
				return nil, fmt.Errorf("%s:%d: id %s already on line %d", name, n, *raw.ID, prev)
			}
			seen[*raw.ID] = n
			q := Query{ID: *raw.ID, Text: *raw.Question, Lang: *raw.Lang, Answers: []string{}}
			if raw.Answers != nil {
				q.Answers = *raw.Answers
			}
			out = append(out, q)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
}

// ReadDPRTSV streams a DPR/XOR wiki passage file (psgs_w100.tsv layout:
// header "id<TAB>text<TAB>title", then one passage per row, fields quoted
// CSV-style as Python's csv module writes them) and calls fn per passage.
func ReadDPRTSV(r io.Reader, name string, fn func(Passage) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.Comma = '\t'
	// Python's csv reader (which DPR uses) takes a quote inside an unquoted
	// field literally; LazyQuotes does the same.
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) != 3 {
			return fmt.Errorf("%s:%d: want 3 tab-separated fields (id, text, title), got %d", name, line, len(rec))
		}
		if rec[0] == "id" { // the header, skipped like the official loaders do
			continue
		}
		if rec[0] == "" {
			return fmt.Errorf("%s:%d: empty passage id", name, line)
		}
		if err := fn(Passage{ID: rec[0], Text: rec[1], Title: rec[2]}); err != nil {
			return err
		}
	}
}

// LoadDPRTSV reads a whole DPR TSV corpus into memory.
func LoadDPRTSV(path string) ([]Passage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dpr tsv: %w", err)
	}
	defer f.Close()
	var out []Passage
	err = ReadDPRTSV(f, path, func(p Passage) error { out = append(out, p); return nil })
	return out, err
}

type squad struct {
	Data []struct {
		Title      string `json:"title"`
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID       string `json:"id"`
				Question string `json:"question"`
				Answers  []struct {
					Text string `json:"text"`
				} `json:"answers"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

func readSquad(path string) (*squad, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s squad
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Data) == 0 {
		return nil, fmt.Errorf("%s: no \"data\" articles", path)
	}
	return &s, nil
}

// XQuADParagraphID is the corpus id of paragraph p of article a.
func XQuADParagraphID(a, p int) string { return strconv.Itoa(a) + "_" + strconv.Itoa(p) }

// LoadXQuAD builds a cross-lingual retrieval set from XQuAD in dir
// (xquad.<lang>.json): the corpus is the English paragraphs
// ("<article>_<paragraph>", titled by the English article), the queries are
// lang's questions, each relevant to the English paragraph at the same
// position, with the English answers of the same question id. The
// languages' files must align by position and question id.
func LoadXQuAD(dir, lang string) (*Dataset, error) {
	en, err := readSquad(filepath.Join(dir, "xquad.en.json"))
	if err != nil {
		return nil, fmt.Errorf("xquad: %w", err)
	}
	qs := en
	if lang != "en" {
		if qs, err = readSquad(filepath.Join(dir, "xquad."+lang+".json")); err != nil {
			return nil, fmt.Errorf("xquad: %w", err)
		}
	}
	d := &Dataset{Name: "xquad-" + lang}
	if len(qs.Data) != len(en.Data) {
		return nil, fmt.Errorf("xquad: %s has %d articles, en has %d", lang, len(qs.Data), len(en.Data))
	}
	for ai, art := range en.Data {
		la := qs.Data[ai]
		if len(la.Paragraphs) != len(art.Paragraphs) {
			return nil, fmt.Errorf("xquad: data[%d]: %s has %d paragraphs, en has %d", ai, lang, len(la.Paragraphs), len(art.Paragraphs))
		}
		for pi, p := range art.Paragraphs {
			id := XQuADParagraphID(ai, pi)
			d.Corpus = append(d.Corpus, Passage{ID: id, Title: strings.ReplaceAll(art.Title, "_", " "), Text: p.Context})
			lp := la.Paragraphs[pi]
			if len(lp.QAs) != len(p.QAs) {
				return nil, fmt.Errorf("xquad: data[%d].paragraphs[%d]: %s has %d questions, en has %d", ai, pi, lang, len(lp.QAs), len(p.QAs))
			}
			for qi, q := range p.QAs {
				lq := lp.QAs[qi]
				if lq.ID != q.ID {
					return nil, fmt.Errorf("xquad: data[%d].paragraphs[%d].qas[%d]: id %q in %s, %q in en", ai, pi, qi, lq.ID, lang, q.ID)
				}
				var ans []string
				for _, a := range q.Answers {
					ans = append(ans, a.Text)
				}
				d.Queries = append(d.Queries, Query{ID: q.ID, Text: lq.Question, Lang: lang, Answers: ans, Relevant: map[string]int{id: 1}})
			}
		}
	}
	return d, nil
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSuffix(string(b), "\n")
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	return lines, nil
}

// NTREXLangs maps xqg's language codes to NTREX-128 file codes.
var NTREXLangs = map[string]string{"ar": "arb", "bn": "ben", "fi": "fin", "ja": "jpn", "ko": "kor", "ru": "rus", "te": "tel", "en": "eng"}

// LoadNTREX reads NTREX-128 from dir: queries are lang's sentences
// (newstest2019-ref.<code>.txt, code from NTREXLangs or given directly);
// the corpus is the English source sentences ("ntrex-<line>", 0-based)
// line-aligned with them, or, when docs is true, the English documents of
// DOCUMENT_IDS.tsv (sentences joined in order, titled by document id).
func LoadNTREX(dir, lang string, docs bool) (*Dataset, error) {
	code := lang
	if c, ok := NTREXLangs[lang]; ok {
		code = c
	}
	src, err := readLines(filepath.Join(dir, "newstest2019-src.eng.txt"))
	if err != nil {
		return nil, fmt.Errorf("ntrex: %w", err)
	}
	ref, err := readLines(filepath.Join(dir, "newstest2019-ref."+code+".txt"))
	if err != nil {
		return nil, fmt.Errorf("ntrex: %w", err)
	}
	if len(ref) != len(src) {
		return nil, fmt.Errorf("ntrex: %s has %d lines, English %d: not line-aligned", code, len(ref), len(src))
	}
	d := &Dataset{Name: "ntrex-" + lang}
	rel := make([]string, len(src))
	if docs {
		ids, err := readLines(filepath.Join(dir, "DOCUMENT_IDS.tsv"))
		if err != nil {
			return nil, fmt.Errorf("ntrex: %w", err)
		}
		if len(ids) != len(src) {
			return nil, fmt.Errorf("ntrex: DOCUMENT_IDS.tsv has %d lines, English %d", len(ids), len(src))
		}
		index := map[string]int{}
		for i, id := range ids {
			id = strings.TrimSpace(id)
			if id == "" {
				return nil, fmt.Errorf("ntrex: DOCUMENT_IDS.tsv:%d: empty document id", i+1)
			}
			k, ok := index[id]
			if !ok {
				k = len(d.Corpus)
				index[id] = k
				d.Corpus = append(d.Corpus, Passage{ID: id, Title: id})
			} else if k != len(d.Corpus)-1 {
				return nil, fmt.Errorf("ntrex: DOCUMENT_IDS.tsv:%d: document %s is not contiguous", i+1, id)
			}
			if d.Corpus[k].Text != "" {
				d.Corpus[k].Text += " "
			}
			d.Corpus[k].Text += src[i]
			rel[i] = id
		}
	} else {
		for i, s := range src {
			id := "ntrex-" + strconv.Itoa(i)
			d.Corpus = append(d.Corpus, Passage{ID: id, Text: s})
			rel[i] = id
		}
	}
	for i, s := range ref {
		d.Queries = append(d.Queries, Query{ID: "ntrex-" + lang + "-" + strconv.Itoa(i), Text: s, Lang: lang, Relevant: map[string]int{rel[i]: 1}})
	}
	return d, nil
}

// TatoebaLangs maps xqg's language codes to Tatoeba (LASER) file codes.
var TatoebaLangs = map[string]string{"ar": "ara", "bn": "ben", "fi": "fin", "ja": "jpn", "ko": "kor", "ru": "rus", "te": "tel"}

// LoadTatoeba reads the LASER Tatoeba pair for lang from dir: queries are
// tatoeba.<code>-eng.<code>, the corpus its English side ("tatoeba-<code>-
// <line>"), line i relevant to line i.
func LoadTatoeba(dir, lang string) (*Dataset, error) {
	code := lang
	if c, ok := TatoebaLangs[lang]; ok {
		code = c
	}
	base := filepath.Join(dir, "tatoeba."+code+"-eng.")
	xs, err := readLines(base + code)
	if err != nil {
		return nil, fmt.Errorf("tatoeba: %w", err)
	}
	en, err := readLines(base + "eng")
	if err != nil {
		return nil, fmt.Errorf("tatoeba: %w", err)
	}
	if len(xs) != len(en) {
		return nil, fmt.Errorf("tatoeba: %s has %d lines, its English side %d", code, len(xs), len(en))
	}
	d := &Dataset{Name: "tatoeba-" + lang}
	for i := range en {
		id := "tatoeba-" + code + "-" + strconv.Itoa(i)
		d.Corpus = append(d.Corpus, Passage{ID: id, Text: en[i]})
		d.Queries = append(d.Queries, Query{ID: "tatoeba-" + lang + "-q" + strconv.Itoa(i), Text: xs[i], Lang: lang, Relevant: map[string]int{id: 1}})
	}
	return d, nil
}
