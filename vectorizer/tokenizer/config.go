package tokenizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PathError is a load failure located by its JSON path, for example
// `normalizer.normalizers[2].type: unsupported "Foo"`.
type PathError struct {
	Path string
	Msg  string
}

func (e *PathError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func perr(path, format string, args ...any) error {
	return &PathError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// obj is a JSON object with its path, for error messages.
type obj struct {
	path string
	m    map[string]any
}

func asObj(path string, v any) (obj, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return obj{}, perr(path, "expected an object, got %s", kind(v))
	}
	return obj{path, m}, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (o obj) has(k string) bool {
	v, ok := o.m[k]
	return ok && v != nil
}

func (o obj) str(k, def string) (string, error) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", perr(join(o.path, k), "expected a string, got %s", kind(v))
	}
	return s, nil
}

func (o obj) boolean(k string, def bool) (bool, error) {
	b, err := o.optBool(k)
	if err != nil || b == nil {
		return def, err
	}
	return *b, nil
}

func (o obj) optBool(k string) (*bool, error) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return nil, nil
	}
	b, ok := v.(bool)
	if !ok {
		return nil, perr(join(o.path, k), "expected a boolean, got %s", kind(v))
	}
	return &b, nil
}

func (o obj) integer(k string, def int) (int, error) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return def, nil
	}
	return asInt(join(o.path, k), v)
}

func asInt(path string, v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, perr(path, "expected an integer, got %s", kind(v))
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, perr(path, "expected an integer, got %s", n)
	}
	return int(i), nil
}

func (o obj) object(k string) (obj, bool, error) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return obj{}, false, nil
	}
	c, err := asObj(join(o.path, k), v)
	return c, err == nil, err
}

func (o obj) array(k string) ([]any, error) {
	v, ok := o.m[k]
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, perr(join(o.path, k), "expected an array, got %s", kind(v))
	}
	return a, nil
}

func (o obj) typ() (string, error) {
	v, ok := o.m["type"]
	if !ok {
		return "", perr(join(o.path, "type"), "missing")
	}
	s, ok := v.(string)
	if !ok {
		return "", perr(join(o.path, "type"), "expected a string, got %s", kind(v))
	}
	return s, nil
}

func loadJSON(b []byte) (*Tokenizer, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	root, err := asObj("", top)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{}
	if err := parseOptional(root, "normalizer", parseNormalizer, &t.normalizer); err != nil {
		return nil, err
	}
	if err := parseOptional(root, "pre_tokenizer", parsePreTokenizer, &t.pre); err != nil {
		return nil, err
	}
	mo, ok, err := root.object("model")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, perr("model", "missing")
	}
	if t.model, err = parseModel(mo); err != nil {
		return nil, err
	}
	if err := parseAdded(root, t); err != nil {
		return nil, err
	}
	// The post-processor resolves its special tokens against the vocabulary and added tokens above.
	parsePostOf := func(o obj) (*postProcessor, error) { return parsePost(o, t) }
	if err := parseOptional(root, "post_processor", parsePostOf, &t.post); err != nil {
		return nil, err
	}
	if err := parseOptional(root, "decoder", parseDecoder, &t.decoder); err != nil {
		return nil, err
	}
	if err := parseOptional(root, "truncation", parseTruncation, &t.truncation); err != nil {
		return nil, err
	}
	if err := parseOptional(root, "padding", parsePadding, &t.padding); err != nil {
		return nil, err
	}
	t.finish()
	return t, nil
}

// parseOptional parses root[key] into *dst when the key is present and not null; absent leaves *dst as is.
func parseOptional[T any](root obj, key string, parse func(obj) (T, error), dst *T) error {
	o, ok, err := root.object(key)
	if err != nil || !ok {
		return err
	}
	v, err := parse(o)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func parseList[T any](o obj, key string, parse func(obj) (T, error)) ([]T, error) {
	arr, err := o.array(key)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(arr))
	for i, v := range arr {
		c, err := asObj(index(join(o.path, key), i), v)
		if err != nil {
			return nil, err
		}
		x, err := parse(c)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func parsePattern(o obj) (literal string, re *regexp.Regexp, err error) {
	po, ok, err := o.object("pattern")
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, perr(join(o.path, "pattern"), "missing")
	}
	if po.has("String") {
		s, err := po.str("String", "")
		return s, nil, err
	}
	if po.has("Regex") {
		s, err := po.str("Regex", "")
		if err != nil {
			return "", nil, err
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return "", nil, perr(join(po.path, "Regex"), "unsupported regular expression %q: %v", s, err)
		}
		return "", re, nil
	}
	return "", nil, perr(join(o.path, "pattern"), "expected String or Regex")
}

func parseNormalizer(o obj) (normalizer, error) {
	t, err := o.typ()
	if err != nil {
		return nil, err
	}
	switch t {
	case "Sequence":
		ns, err := parseList(o, "normalizers", parseNormalizer)
		return sequenceNormalizer(ns), err
	case "BertNormalizer":
		bertTable() // built at load (~5 ms) rather than in the first Encode
		var b bertNormalizer
		if b.cleanText, err = o.boolean("clean_text", true); err != nil {
			return nil, err
		}
		if b.chineseChars, err = o.boolean("handle_chinese_chars", true); err != nil {
			return nil, err
		}
		if b.lowercase, err = o.boolean("lowercase", true); err != nil {
			return nil, err
		}
		sa, err := o.optBool("strip_accents")
		if err != nil {
			return nil, err
		}
		// Hugging Face: strip_accents null follows lowercase.
		b.stripAccents = b.lowercase
		if sa != nil {
			b.stripAccents = *sa
		}
		return b, nil
	case "Precompiled":
		s, err := o.str("precompiled_charsmap", "")
		if err != nil {
			return nil, err
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, perr(join(o.path, "precompiled_charsmap"), "invalid base64: %v", err)
		}
		cm, err := parseCharsmap(raw)
		if err != nil {
			return nil, perr(join(o.path, "precompiled_charsmap"), "%v", err)
		}
		return precompiledNormalizer{cm}, nil
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		l, err := o.boolean("strip_left", true)
		if err != nil {
			return nil, err
		}
		r, err := o.boolean("strip_right", true)
		return stripNormalizer{l, r}, err
	case "Replace":
		lit, re, err := parsePattern(o)
		if err != nil {
			return nil, err
		}
		c, err := o.str("content", "")
		rn := replaceNormalizer{literal: lit, re: re, content: c}
		if re != nil {
			rn.run = runPattern(re)
		}
		return rn, err
	case "Prepend":
		s, err := o.str("prepend", "")
		return prependNormalizer{s}, err
	}
	return nil, perr(join(o.path, "type"), "unsupported %q", t)
}

func parseBehavior(o obj, key string, def splitBehavior) (splitBehavior, error) {
	s, err := o.str(key, "")
	if err != nil {
		return 0, err
	}
	switch s {
	case "":
		return def, nil
	case "Removed":
		return behRemoved, nil
	case "Isolated":
		return behIsolated, nil
	case "MergedWithPrevious":
		return behMergedWithPrevious, nil
	case "MergedWithNext":
		return behMergedWithNext, nil
	case "Contiguous":
		return behContiguous, nil
	}
	return 0, perr(join(o.path, key), "unsupported %q", s)
}

func parseMetaspace(o obj) (rune, prependScheme, error) {
	rep, err := o.str("replacement", "▁")
	if err != nil {
		return 0, 0, err
	}
	r, sz := utf8.DecodeRuneInString(rep)
	if sz == 0 || sz != len(rep) {
		return 0, 0, perr(join(o.path, "replacement"), "expected one character, got %q", rep)
	}
	scheme := prependAlways
	if o.has("prepend_scheme") {
		s, err := o.str("prepend_scheme", "")
		if err != nil {
			return 0, 0, err
		}
		switch s {
		case "always":
			scheme = prependAlways
		case "first":
			scheme = prependFirst
		case "never":
			scheme = prependNever
		default:
			return 0, 0, perr(join(o.path, "prepend_scheme"), "unsupported %q", s)
		}
	} else {
		add, err := o.boolean("add_prefix_space", true)
		if err != nil {
			return 0, 0, err
		}
		if !add {
			scheme = prependNever
		}
	}
	return r, scheme, nil
}

func parsePreTokenizer(o obj) (preTokenizer, error) {
	t, err := o.typ()
	if err != nil {
		return nil, err
	}
	switch t {
	case "Sequence":
		ps, err := parseList(o, "pretokenizers", parsePreTokenizer)
		return sequencePre(ps), err
	case "BertPreTokenizer":
		bertTable()
		return bertPreTokenizer{}, nil
	case "WhitespaceSplit":
		return whitespaceSplit{}, nil
	case "Whitespace":
		return whitespacePre{}, nil
	case "Punctuation":
		b, err := parseBehavior(o, "behavior", behIsolated)
		return punctuationPre{b}, err
	case "Digits":
		ind, err := o.boolean("individual_digits", false)
		return digitsPre{ind}, err
	case "Metaspace":
		r, scheme, err := parseMetaspace(o)
		if err != nil {
			return nil, err
		}
		split, err := o.boolean("split", true)
		return metaspacePre{replacement: r, rep: string(r), scheme: scheme, split: split}, err
	case "Split":
		lit, re, err := parsePattern(o)
		if err != nil {
			return nil, err
		}
		if re == nil {
			re = regexp.MustCompile(regexp.QuoteMeta(lit))
		}
		b, err := parseBehavior(o, "behavior", behRemoved)
		if err != nil {
			return nil, err
		}
		inv, err := o.boolean("invert", false)
		return splitPre{re: re, beh: b, invert: inv}, err
	}
	return nil, perr(join(o.path, "type"), "unsupported %q", t)
}

func parseModel(o obj) (model, error) {
	t, err := o.str("type", "")
	if err != nil {
		return nil, err
	}
	if t == "" {
		// Older files leave the type out; Hugging Face infers it.
		switch v := o.m["vocab"].(type) {
		case []any:
			t = "Unigram"
		case map[string]any:
			switch {
			case o.has("merges"):
				t = "BPE"
			case o.has("continuing_subword_prefix") || o.has("max_input_chars_per_word"):
				t = "WordPiece"
			default:
				t = "WordLevel"
			}
		default:
			return nil, perr(join(o.path, "vocab"), "cannot infer the model type from %s", kind(v))
		}
	}
	switch t {
	case "WordPiece":
		vo, ok, err := o.object("vocab")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, perr(join(o.path, "vocab"), "missing")
		}
		vocab := make(map[string]int, len(vo.m))
		for k, v := range vo.m {
			id, err := asInt(join(vo.path, strconv.Quote(k)), v)
			if err != nil {
				return nil, err
			}
			vocab[k] = id
		}
		unk, err := o.str("unk_token", "[UNK]")
		if err != nil {
			return nil, err
		}
		prefix, err := o.str("continuing_subword_prefix", "##")
		if err != nil {
			return nil, err
		}
		maxc, err := o.integer("max_input_chars_per_word", 100)
		if err != nil {
			return nil, err
		}
		wp, err := newWordPiece(vocab, unk, prefix, maxc)
		if err != nil {
			return nil, perr(o.path, "%v", err)
		}
		return wp, nil
	case "Unigram":
		arr, err := o.array("vocab")
		if err != nil {
			return nil, err
		}
		ps := make([]unigramPiece, len(arr))
		for i, v := range arr {
			p := index(join(o.path, "vocab"), i)
			e, ok := v.([]any)
			if !ok || len(e) != 2 {
				return nil, perr(p, "expected [piece, score]")
			}
			s, ok := e[0].(string)
			if !ok {
				return nil, perr(index(p, 0), "expected a string, got %s", kind(e[0]))
			}
			n, ok := e[1].(json.Number)
			if !ok {
				return nil, perr(index(p, 1), "expected a number, got %s", kind(e[1]))
			}
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil {
				return nil, perr(index(p, 1), "invalid score %s", n)
			}
			ps[i] = unigramPiece{piece: s, score: f, trie: true}
		}
		unk := -1
		if o.has("unk_id") {
			if unk, err = o.integer("unk_id", -1); err != nil {
				return nil, err
			}
		}
		bf, err := o.boolean("byte_fallback", false)
		if err != nil {
			return nil, err
		}
		u, err := newUnigram(ps, unk, bf)
		if err != nil {
			return nil, perr(o.path, "%v", err)
		}
		return u, nil
	}
	return nil, perr(join(o.path, "type"), "unsupported %q", t)
}

func parseAdded(root obj, t *Tokenizer) error {
	arr, err := root.array("added_tokens")
	if err != nil {
		return err
	}
	for i, v := range arr {
		o, err := asObj(index("added_tokens", i), v)
		if err != nil {
			return err
		}
		var a addedToken
		id, err := o.integer("id", -1)
		if err != nil {
			return err
		}
		if id < 0 {
			return perr(join(o.path, "id"), "missing or negative")
		}
		a.id = int32(id)
		if a.content, err = o.str("content", ""); err != nil {
			return err
		}
		if a.singleWord, err = o.boolean("single_word", false); err != nil {
			return err
		}
		if a.lstrip, err = o.boolean("lstrip", false); err != nil {
			return err
		}
		if a.rstrip, err = o.boolean("rstrip", false); err != nil {
			return err
		}
		if a.special, err = o.boolean("special", false); err != nil {
			return err
		}
		if a.norm, err = o.boolean("normalized", !a.special); err != nil {
			return err
		}
		t.added = append(t.added, a)
	}
	return nil
}

// tokenIDs resolves a [token, id] pair of BertProcessing/RobertaProcessing.
func tokenIDPair(o obj, key string) (string, int32, error) {
	arr, err := o.array(key)
	if err != nil {
		return "", 0, err
	}
	p := join(o.path, key)
	if len(arr) != 2 {
		return "", 0, perr(p, "expected [token, id]")
	}
	s, ok := arr[0].(string)
	if !ok {
		return "", 0, perr(index(p, 0), "expected a string, got %s", kind(arr[0]))
	}
	id, err := asInt(index(p, 1), arr[1])
	return s, int32(id), err
}

func parsePost(o obj, tk *Tokenizer) (*postProcessor, error) {
	t, err := o.typ()
	if err != nil {
		return nil, err
	}
	switch t {
	case "BertProcessing", "RobertaProcessing":
		sepT, sep, err := tokenIDPair(o, "sep")
		if err != nil {
			return nil, err
		}
		clsT, cls, err := tokenIDPair(o, "cls")
		if err != nil {
			return nil, err
		}
		if t == "BertProcessing" {
			return bertTemplate(cls, sep, clsT, sepT), nil
		}
		return robertaTemplate(cls, sep, clsT, sepT), nil
	case "TemplateProcessing":
		specials := map[string]templatePiece{}
		if so, ok, err := o.object("special_tokens"); err != nil {
			return nil, err
		} else if ok {
			keys := make([]string, 0, len(so.m))
			for k := range so.m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				e, err := asObj(join(so.path, strconv.Quote(k)), so.m[k])
				if err != nil {
					return nil, err
				}
				ids, err := e.array("ids")
				if err != nil {
					return nil, err
				}
				var tp templatePiece
				tp.seq = -1
				for i, v := range ids {
					id, err := asInt(index(join(e.path, "ids"), i), v)
					if err != nil {
						return nil, err
					}
					tp.ids = append(tp.ids, int32(id))
				}
				specials[k] = tp
			}
		}
		pp := &postProcessor{}
		for _, which := range []string{"single", "pair"} {
			arr, err := o.array(which)
			if err != nil {
				return nil, err
			}
			var tmpl []templatePiece
			for i, v := range arr {
				p := index(join(o.path, which), i)
				e, err := asObj(p, v)
				if err != nil {
					return nil, err
				}
				var tp templatePiece
				switch {
				case e.has("SpecialToken"):
					so, _, err := e.object("SpecialToken")
					if err != nil {
						return nil, err
					}
					id, err := so.str("id", "")
					if err != nil {
						return nil, err
					}
					sp, ok := specials[id]
					if !ok {
						return nil, perr(join(so.path, "id"), "special token %q is not in special_tokens", id)
					}
					tp = sp
					ty, err := so.integer("type_id", 0)
					if err != nil {
						return nil, err
					}
					tp.typeID = int8(ty)
				case e.has("Sequence"):
					so, _, err := e.object("Sequence")
					if err != nil {
						return nil, err
					}
					id, err := so.str("id", "A")
					if err != nil {
						return nil, err
					}
					switch id {
					case "A":
						tp.seq = 0
					case "B":
						tp.seq = 1
					default:
						return nil, perr(join(so.path, "id"), "unsupported %q", id)
					}
					ty, err := so.integer("type_id", 0)
					if err != nil {
						return nil, err
					}
					tp.typeID = int8(ty)
				default:
					return nil, perr(p, "expected SpecialToken or Sequence")
				}
				tmpl = append(tmpl, tp)
			}
			if which == "single" {
				pp.single = tmpl
			} else {
				pp.pair = tmpl
			}
		}
		if pp.single == nil {
			pp.single = []templatePiece{{seq: 0}}
		}
		if pp.pair == nil {
			pp.pair = []templatePiece{{seq: 0}, {seq: 1, typeID: 1}}
		}
		return pp, nil
	}
	return nil, perr(join(o.path, "type"), "unsupported %q", t)
}

func parseDecoder(o obj) (decoder, error) {
	t, err := o.typ()
	if err != nil {
		return nil, err
	}
	switch t {
	case "Sequence":
		ds, err := parseList(o, "decoders", parseDecoder)
		return sequenceDecoder(ds), err
	case "WordPiece":
		p, err := o.str("prefix", "##")
		if err != nil {
			return nil, err
		}
		c, err := o.boolean("cleanup", true)
		return wordPieceDecoder{p, c}, err
	case "Metaspace":
		r, scheme, err := parseMetaspace(o)
		return metaspaceDecoder{r, scheme}, err
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		c, err := o.str("content", " ")
		if err != nil {
			return nil, err
		}
		r, sz := utf8.DecodeRuneInString(c)
		if sz == 0 || sz != len(c) {
			return nil, perr(join(o.path, "content"), "expected one character, got %q", c)
		}
		start, err := o.integer("start", 0)
		if err != nil {
			return nil, err
		}
		stop, err := o.integer("stop", 0)
		return stripDecoder{r, start, stop}, err
	case "Replace":
		lit, re, err := parsePattern(o)
		if err != nil {
			return nil, err
		}
		c, err := o.str("content", "")
		return replaceDecoder{literal: lit, re: re, content: c}, err
	}
	return nil, perr(join(o.path, "type"), "unsupported %q", t)
}

func parseTruncation(o obj) (*Truncation, error) {
	tr := &Truncation{}
	var err error
	if tr.MaxLength, err = o.integer("max_length", 512); err != nil {
		return nil, err
	}
	s, err := o.str("strategy", "LongestFirst")
	if err != nil {
		return nil, err
	}
	switch s {
	case "LongestFirst":
		tr.Strategy = LongestFirst
	case "OnlyFirst":
		tr.Strategy = OnlyFirst
	case "OnlySecond":
		tr.Strategy = OnlySecond
	default:
		return nil, perr(join(o.path, "strategy"), "unsupported %q", s)
	}
	d, err := o.str("direction", "Right")
	if err != nil {
		return nil, err
	}
	switch d {
	case "Right":
	case "Left":
		tr.Left = true
	default:
		return nil, perr(join(o.path, "direction"), "unsupported %q", d)
	}
	if stride, err := o.integer("stride", 0); err != nil {
		return nil, err
	} else if stride != 0 {
		return nil, perr(join(o.path, "stride"), "unsupported %d (overflowing windows are not implemented)", stride)
	}
	return tr, nil
}

func parsePadding(o obj) (*Padding, error) {
	p := &Padding{}
	var err error
	switch v := o.m["strategy"].(type) {
	case nil:
	case string:
		if v != "BatchLongest" {
			return nil, perr(join(o.path, "strategy"), "unsupported %q", v)
		}
	case map[string]any:
		f, ok := v["Fixed"]
		if !ok {
			return nil, perr(join(o.path, "strategy"), "expected BatchLongest or {Fixed: n}")
		}
		if p.Length, err = asInt(join(o.path, "strategy.Fixed"), f); err != nil {
			return nil, err
		}
	default:
		return nil, perr(join(o.path, "strategy"), "expected BatchLongest or {Fixed: n}")
	}
	d, err := o.str("direction", "Right")
	if err != nil {
		return nil, err
	}
	switch d {
	case "Right":
	case "Left":
		p.Left = true
	default:
		return nil, perr(join(o.path, "direction"), "unsupported %q", d)
	}
	if p.MultipleOf, err = o.integer("pad_to_multiple_of", 0); err != nil {
		return nil, err
	}
	if p.PadID, err = o.integer("pad_id", 0); err != nil {
		return nil, err
	}
	if p.PadTypeID, err = o.integer("pad_type_id", 0); err != nil {
		return nil, err
	}
	if p.PadToken, err = o.str("pad_token", "[PAD]"); err != nil {
		return nil, err
	}
	return p, nil
}
