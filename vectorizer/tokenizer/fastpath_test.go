package tokenizer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fast paths (direct copies instead of the rewriter, table lookups
// instead of Unicode property searches) must produce exactly the pieces of
// the straightforward implementations kept here as references: same bytes,
// same alignment of every byte.

// fastPathInputs are edge cases plus, when the fixtures are there, every
// eighth multilingual parity line (every language block), enough
// for coverage while the test stays fast.
func fastPathInputs(tb testing.TB) []string {
	in := []string{"", " ", "  ", "a", " a", "a ", "  a  b  ", "▁", "▁a", "a▁ b", "Hello, World!", "\ufeffBOM",
		"a\u200db\u200cc", "e\u0301\u0323 é\u0323 ǟ", "İstanbul ΣΑΣ", "北京 x 東京", "\xff\xfe inv \xe2\x82", "tab\tcr\r\nx\x00y\x7f",
		"한국어 테스트 한\u0301", "ру́сский Ёж", "తెలుగు క్ష", "বাংলা কো য়্", "العربية مَرْحَبًا", "テスト が か\u3099", "👩\u200d👩\u200d👧 🎉",
		"\u00a0\u2003\u3000x", "ﬁ ㎏ Ⅻ", "\u0301start", strings.Repeat("ab ", 40),
		// NFD segments that need reordering or decompose with marks after them.
		"a\u0323\u0301", "\u0344x\u0344", "Å\u0301\u0323", "\u0301\u0323", "x\u0301\u0323", "ক\u09cb\u09cd", "য়া",
		"北\u0301", "北\u0344", "\u1100\u1161\u11a8", "ﬁ\u0301", "\u00c5\u200d\u0301", "I\u0307\u0323 İ\u0323", "\u0f73\u0f75 \u0f40\u0f71\u0f72"}
	if d := filepathOrEmpty(); d != "" {
		if b, err := os.ReadFile(filepath.Join(d, "lines.txt")); err == nil {
			for i, l := range strings.Split(string(b), "\n") {
				if i%8 == 0 {
					in = append(in, l)
				}
			}
		}
	}
	return in
}

type pieceView struct {
	S     string
	Align []span
}

func viewPieces(ps []piece) []pieceView {
	out := make([]pieceView, len(ps))
	for i, p := range ps {
		out[i] = pieceView{string(p.s), append([]span(nil), p.align...)}
	}
	return out
}

// metaspaceRef is Metaspace through the rewriter.
func metaspaceRef(m metaspacePre, in []piece, st *state) []piece {
	var out []piece
	for i := range in {
		p := in[i]
		if hasByte(p.s, ' ') {
			w := &st.w
			w.reset()
			for _, r := range string(p.s) {
				if r == ' ' {
					w.emitRune(m.replacement)
				} else {
					w.keep(r)
				}
			}
			p.apply(w, &st.a)
		}
		if len(p.s) > 0 {
			first, _ := utf8.DecodeRune(p.s)
			switch {
			case first == m.replacement:
			case m.scheme == prependAlways,
				m.scheme == prependFirst && p.align[0].start == 0:
				prependTo(&p, st, m.rep)
			}
		}
		if !m.split {
			if len(p.s) > 0 {
				out = append(out, p)
			}
			continue
		}
		segs := charSegments(p.s, func(r rune) bool { return r == m.replacement }, nil)
		out = splitSegments(&p, segs, behMergedWithNext, out)
	}
	return out
}

func TestMetaspaceFastPath(t *testing.T) {
	inputs := fastPathInputs(t)
	for _, rep := range []rune{'▁', '_'} {
		for _, scheme := range []prependScheme{prependAlways, prependFirst, prependNever} {
			for _, split := range []bool{true, false} {
				m := metaspacePre{replacement: rep, rep: string(rep), scheme: scheme, split: split}
				for _, s := range inputs {
					st := &state{}
					p, _ := lossyUTF8(s, &st.a)
					// A second piece that does not start the text exercises
					// prepend_scheme "first".
					in := []piece{p}
					if _, k := utf8.DecodeRune(p.s); k > 0 && k < len(p.s) {
						in = []piece{p.sub(0, k), p.sub(k, len(p.s))}
					}
					want := viewPieces(metaspaceRef(m, in, &state{}))
					got := viewPieces(m.preTokenize(in, nil, st))
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("rep %q scheme %d split %v on %q:\n got %+v\nwant %+v", rep, scheme, split, s, got, want)
					}
				}
			}
		}
	}
}

func checkBertFast(t *testing.T, s string) {
	t.Helper()
	for k := 0; k < 16; k++ {
		b := bertNormalizer{cleanText: k&1 != 0, chineseChars: k&2 != 0, stripAccents: k&4 != 0, lowercase: k&8 != 0}
		st := &state{}
		want, _ := lossyUTF8(s, &st.a)
		got := want
		b.normalizeSteps(&want, st)
		b.normalizeFast(&got, st)
		if w, g := viewPieces([]piece{want}), viewPieces([]piece{got}); !reflect.DeepEqual(g, w) {
			t.Fatalf("%+v on %q:\n got %+v\nwant %+v", b, s, g, w)
		}
	}
}

// TestBertNormalizerFastPath: the one-pass BertNormalizer equals the
// step-by-step one for every combination of options.
func TestBertNormalizerFastPath(t *testing.T) {
	for _, s := range fastPathInputs(t) {
		checkBertFast(t, s)
	}
}

func FuzzBertNormalizerFastPath(f *testing.F) {
	for _, s := range fastPathInputs(f)[:40] {
		f.Add(s)
	}
	f.Fuzz(checkBertFast)
}

// TestConcurrentEncode: Encode shares pooled scratch state between calls;
// encodings made from several goroutines at once equal sequential ones.
func TestConcurrentEncode(t *testing.T) {
	inputs := fastPathInputs(t)
	for _, tk := range []*Tokenizer{tinyBERT(t), tinyT5(t), byteFallbackT5(t)} {
		want := make([]*Encoding, len(inputs))
		for i, s := range inputs {
			want[i] = tk.Encode(s, true)
		}
		errs := make(chan string, 4)
		for g := 0; g < 4; g++ {
			go func() {
				for i := range inputs {
					k := (i + g*len(inputs)/4) % len(inputs)
					if got := tk.Encode(inputs[k], true); !reflect.DeepEqual(got, want[k]) {
						errs <- inputs[k]
						return
					}
				}
				errs <- ""
			}()
		}
		for g := 0; g < 4; g++ {
			if s := <-errs; s != "" {
				t.Fatalf("concurrent Encode(%q) differs from the sequential one", s)
			}
		}
	}
}
