package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Passage is one input record.
type Passage struct {
	ID    string
	Title string
	Text  string
	// Queries are pre-generated queries by language (JSONL generated_queries); the embedder may use
	// them instead of generating.
	Queries map[string][]string
	// Extra are the record's other fields, kept as properties of the object.
	Extra map[string]any
}

// WeaviateText is the text Weaviate's text2vec-transformers sends the service for this passage: the
// source properties' values in property-name order (text before title), joined by a space, class name
// left out. The fast path embeds exactly this, so both paths give an object the same vectors.
func (p Passage) WeaviateText() string {
	switch {
	case p.Title == "":
		return p.Text
	case p.Text == "":
		return p.Title
	}
	return p.Text + " " + p.Title
}

// Formats of input files.
const (
	FormatJSONL = "jsonl"
	FormatTSV   = "tsv"
)

// DetectFormat picks the format from the file name.
func DetectFormat(path string) (string, error) {
	lower := strings.ToLower(path)
	for _, ext := range []string{".jsonl", ".ndjson", ".json"} {
		if strings.HasSuffix(lower, ext) {
			return FormatJSONL, nil
		}
	}
	if strings.HasSuffix(lower, ".tsv") {
		return FormatTSV, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the name (want .jsonl or .tsv); pass --format jsonl|tsv", path)
}

// FailedErrorKey is the field the failed-objects file adds to each record; readers ignore it, so the
// failed file is itself an input for a retry.
const FailedErrorKey = "_xqg_error"

// record is one decoded record, or the reason it could not be decoded.
type record struct {
	passage Passage
	raw     []byte // the record as read, for the failed file when it is invalid
	err     error  // invalid record: reported as failed, the ingest goes on
	end     int64  // byte offset just after the record
}

// reader streams records from a file in constant memory.
type reader interface {
	// next returns io.EOF at the end; any other error stops the ingest (the file cannot be read).
	next() (record, error)
}

var propName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,230}$`)

type jsonlReader struct {
	name string
	br   *bufio.Reader
	off  int64
	line int
}

func newJSONLReader(name string, r io.Reader, base int64, baseLine int) *jsonlReader {
	return &jsonlReader{name: name, br: bufio.NewReaderSize(r, 1<<20), off: base, line: baseLine}
}

func (j *jsonlReader) next() (record, error) {
	for {
		b, err := j.br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			return record{}, err
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return record{}, fmt.Errorf("%s: read: %w", j.name, err)
		}
		j.off += int64(len(b))
		j.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		p, perr := parseJSONL(b)
		if perr != nil {
			perr = fmt.Errorf("%s:%d: %w", j.name, j.line, perr)
		}
		return record{passage: p, raw: b, err: perr, end: j.off}, nil
	}
}

func parseJSONL(b []byte) (Passage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Passage{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var p Passage
	var err error
	if p.ID, err = idString(m["id"]); err != nil {
		return p, err
	}
	if p.Text, err = optString(m, "text"); err != nil {
		return p, err
	}
	if p.Text == "" {
		return p, errors.New("text: missing or empty")
	}
	if p.Title, err = optString(m, "title"); err != nil {
		return p, err
	}
	if q, ok := m["generated_queries"]; ok && q != nil {
		if p.Queries, err = parseQueries(q); err != nil {
			return p, err
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "id", "text", "title", "generated_queries", FailedErrorKey:
			continue
		case "passage_id":
			return p, errors.New("passage_id: reserved (the object's copy of id); rename the field")
		}
		if !propName.MatchString(k) {
			return p, fmt.Errorf("%s: not a valid Weaviate property name (letters, digits, _; not starting with a digit)", k)
		}
		if p.Extra == nil {
			p.Extra = map[string]any{}
		}
		p.Extra[k] = propertyValue(m[k])
	}
	return p, nil
}

func idString(v any) (string, error) {
	switch id := v.(type) {
	case string:
		if strings.TrimSpace(id) == "" {
			return "", errors.New("id: empty")
		}
		return id, nil
	case json.Number:
		return id.String(), nil
	case nil:
		return "", errors.New("id: missing")
	}
	return "", fmt.Errorf("id: want a string or number, got %T", v)
}

func optString(m map[string]any, key string) (string, error) {
	switch s := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	default:
		return "", fmt.Errorf("%s: want a string, got %T", key, s)
	}
}

func parseQueries(v any) (map[string][]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("generated_queries: want an object of language -> list of queries, got %T", v)
	}
	out := make(map[string][]string, len(m))
	for lang, qs := range m {
		switch q := qs.(type) {
		case string:
			out[lang] = []string{q}
		case []any:
			for i, e := range q {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("generated_queries.%s[%d]: want a string, got %T", lang, i, e)
				}
				out[lang] = append(out[lang], s)
			}
		default:
			return nil, fmt.Errorf("generated_queries.%s: want a list of strings, got %T", lang, qs)
		}
	}
	return out, nil
}

// propertyValue maps a decoded JSON value to what the client sends for it: homogeneous arrays as
// typed arrays (the gRPC batcher reads []any as nested objects), objects and mixed arrays as JSON text.
func propertyValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		if len(x) == 0 {
			return []string{}
		}
		switch x[0].(type) {
		case string:
			out := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return jsonText(x)
				}
				out = append(out, s)
			}
			return out
		case json.Number:
			out := make([]float64, 0, len(x))
			for _, e := range x {
				n, ok := e.(json.Number)
				if !ok {
					return jsonText(x)
				}
				f, _ := n.Float64()
				out = append(out, f)
			}
			return out
		case bool:
			out := make([]bool, 0, len(x))
			for _, e := range x {
				b, ok := e.(bool)
				if !ok {
					return jsonText(x)
				}
				out = append(out, b)
			}
			return out
		}
		return jsonText(x)
	case map[string]any:
		return jsonText(x)
	}
	return v
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// tsvReader reads the DPR / XOR-TyDi wiki passage TSV: a header "id\ttext\ttitle" (columns in any
// order), tab-separated, CSV quoting (psgs_w100.tsv quotes texts containing quotes).
type tsvReader struct {
	name   string
	cr     *csv.Reader
	base   int64
	cols   map[string]int
	ncols  int
	record int
}

var tsvColumns = []string{"id", "text", "title"}

// newTSVReader reads the header from hdr (the file from its start) and the records from r, which
// starts at byte base of the file (base 0: r is hdr).
func newTSVReader(name string, r io.Reader, base int64) (*tsvReader, error) {
	t := &tsvReader{name: name, base: base}
	t.cr = newTSVCSV(r)
	if base == 0 {
		header, err := t.cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: empty file (want a header id<TAB>text<TAB>title)", name)
			}
			return nil, fmt.Errorf("%s: header: %w", name, err)
		}
		if err := t.setHeader(header); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func newTSVCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.Comma = '\t'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// readTSVHeader reads only the header of a TSV file.
func readTSVHeader(name string, r io.Reader) (map[string]int, int, error) {
	t, err := newTSVReader(name, r, 0)
	if err != nil {
		return nil, 0, err
	}
	return t.cols, t.ncols, nil
}

func (t *tsvReader) setHeader(header []string) error {
	t.cols = map[string]int{}
	for i, h := range header {
		t.cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range tsvColumns {
		if _, ok := t.cols[c]; !ok {
			return fmt.Errorf("%s: header %q has no %q column (want id<TAB>text<TAB>title as in psgs_w100.tsv)", t.name, strings.Join(header, "\t"), c)
		}
	}
	t.ncols = len(header)
	return nil
}

func (t *tsvReader) next() (record, error) {
	rec, err := t.cr.Read()
	t.record++
	end := t.base + t.cr.InputOffset()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A malformed row is one failed record; the reader resynchronises at the next line.
			return record{raw: []byte(fmt.Sprint(rec)), err: fmt.Errorf("%s: %w", t.name, err), end: end}, nil
		}
		return record{}, fmt.Errorf("%s: read: %w", t.name, err)
	}
	line, _ := t.cr.FieldPos(0)
	raw := []byte(strings.Join(rec, "\t"))
	if len(rec) != t.ncols {
		return record{raw: raw, end: end, err: fmt.Errorf("%s: line %d: %d fields, the header has %d", t.name, line, len(rec), t.ncols)}, nil
	}
	p := Passage{ID: rec[t.cols["id"]], Text: rec[t.cols["text"]], Title: rec[t.cols["title"]]}
	switch {
	case strings.TrimSpace(p.ID) == "":
		return record{raw: raw, end: end, err: fmt.Errorf("%s: line %d: id: empty", t.name, line)}, nil
	case p.Text == "":
		return record{raw: raw, end: end, err: fmt.Errorf("%s: line %d: text: empty", t.name, line)}, nil
	}
	return record{passage: p, raw: raw, end: end}, nil
}
