package attack

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/internal/testenv"
)

// dataDir is ../shared/data beside the repository (never copied into it).
func dataDir(t *testing.T) string { return testenv.SharedData(t) }

var ctx = context.Background()

func graphemes(s string) []string {
	var out []string
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		out = append(out, g.Str())
	}
	return out
}

// diffClusters returns the clusters of a that b lacks when b is a with one
// cluster removed, or "" otherwise.
func removedOne(a, b []string) (string, bool) {
	if len(a) != len(b)+1 {
		return "", false
	}
	for i := range a {
		if strings.Join(append(append([]string{}, a[:i]...), a[i+1:]...), "") == strings.Join(b, "") {
			return a[i], true
		}
	}
	return "", false
}

var samples = map[string]string{
	"fi": "Mikä on Suomen pääkaupunki?",
	"ru": "Какая столица России?",
	"ar": "ما هي عاصمة مصر؟",
	"bn": "বাংলাদেশের রাজধানী কী?",
	"te": "భారతదేశ రాజధాని ఏది?",
	"ja": "日本の首都はどこですか？",
	"ko": "한국의 수도는 어디입니까?",
}

func TestCharLevelEdits(t *testing.T) {
	for lang, text := range samples {
		orig := graphemes(text)
		for seed := uint64(0); seed < 20; seed++ {
			out, err := Perturb(ctx, text, lang, Insert, RNG(seed, lang, Insert), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := removedOne(graphemes(out), orig); !ok {
				t.Errorf("%s insert: %q is not %q plus one cluster", lang, out, text)
			}
			out, err = Perturb(ctx, text, lang, Delete, RNG(seed, lang, Delete), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := removedOne(orig, graphemes(out)); !ok || !isLetterCluster(cluster{s: c}) {
				t.Errorf("%s delete: %q is not %q minus one letter cluster", lang, out, text)
			}
			out, err = Perturb(ctx, text, lang, Substitute, RNG(seed, lang, Substitute), Options{})
			if err != nil {
				t.Fatal(err)
			}
			g := graphemes(out)
			diff := 0
			for i := range g {
				if i < len(orig) && g[i] != orig[i] {
					diff++
				}
			}
			if len(g) != len(orig) || diff != 1 {
				t.Errorf("%s substitute: %q vs %q: %d clusters differ", lang, out, text, diff)
			}
			out, err = Perturb(ctx, text, lang, Swap, RNG(seed, lang, Swap), Options{})
			if err != nil {
				t.Fatal(err)
			}
			g = graphemes(out)
			swapped := false
			for i := 0; i+1 < len(g); i++ {
				if g[i] != orig[i] {
					swapped = g[i] == orig[i+1] && g[i+1] == orig[i] && strings.Join(g[i+2:], "") == strings.Join(orig[i+2:], "")
					break
				}
			}
			if !swapped {
				t.Errorf("%s swap: %q is not %q with two adjacent clusters swapped", lang, out, text)
			}
		}
	}
}

func TestGraphemeAware(t *testing.T) {
	// "ক্ষি" is one cluster (conjunct + vowel sign): deletion never leaves a
	// dangling virama or vowel sign.
	text := "ক্ষিতি রাজধানী"
	for seed := uint64(0); seed < 50; seed++ {
		out, err := Perturb(ctx, text, "bn", Delete, RNG(seed, "x", Delete), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range graphemes(out) {
			r, _ := utf8.DecodeRuneInString(c)
			if IsRemovableMark("bn", r) {
				t.Fatalf("delete left a cluster starting with a sign: %q", out)
			}
		}
	}
}

func TestKeyboard(t *testing.T) {
	for _, lang := range KeyboardLangs() {
		text := samples[lang]
		for seed := uint64(0); seed < 20; seed++ {
			out, err := Perturb(ctx, text, lang, Keyboard, RNG(seed, lang, Keyboard), Options{})
			if err != nil {
				t.Fatalf("%s: %v", lang, err)
			}
			a, b := []rune(text), []rune(out)
			if len(a) != len(b) {
				t.Fatalf("%s: %q -> %q changes length", lang, text, out)
			}
			n := 0
			for i := range a {
				if a[i] == b[i] {
					continue
				}
				n++
				if lang == "ko" {
					continue // checked below via jamo
				}
				ok := false
				for _, nb := range neighbours(lang, toLower(a[i])) {
					ok = ok || nb == toLower(b[i])
				}
				if !ok {
					t.Errorf("%s: %q -> %q is not a keyboard neighbour", lang, a[i], b[i])
				}
			}
			if n != 1 {
				t.Errorf("%s: %q -> %q: %d characters changed, want 1", lang, text, out, n)
			}
		}
	}
	// Korean: 한 (ㅎ ㅏ ㄴ) -> one jamo replaced by a 2-set neighbour.
	out, err := Perturb(ctx, "한", "ko", Keyboard, RNG(1, "k", Keyboard), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := int([]rune(out)[0] - 0xAC00)
	l, v, tl := s/(21*28), (s/28)%21, s%28
	if tl != 4 || (hangulL[l] == 'ㅎ') == (hangulV[v] == 'ㅏ') {
		t.Errorf("한 -> %q: want exactly one of ㅎ/ㅏ changed, final ㄴ kept", out)
	}
	if _, err := Perturb(ctx, "ভাষা", "bn", Keyboard, RNG(1, "k", Keyboard), Options{}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("bn keyboard: err = %v, want ErrNotApplicable", err)
	}
}

func toLower(r rune) rune { return []rune(strings.ToLower(string(r)))[0] }

func TestDiacritics(t *testing.T) {
	cases := []struct{ lang, text string }{
		{"ar", "مَا هِيَ عَاصِمَةُ مِصْرَ"},
		{"bn", "বাংলাদেশের রাজধানী"},
		{"te", "భారతదేశ రాజధాని ఏది"},
	}
	for _, c := range cases {
		out, err := Perturb(ctx, c.text, c.lang, Diacritics, RNG(3, c.lang, Diacritics), Options{Edits: 2})
		if err != nil {
			t.Fatal(err)
		}
		a, b := []rune(c.text), []rune(out)
		if len(a) != len(b)+2 {
			t.Errorf("%s: %q -> %q: want two marks removed", c.lang, c.text, out)
		}
		// What was removed are marks only: deleting all marks from both gives
		// the same skeleton.
		strip := func(rs []rune) string {
			var o []rune
			for _, r := range rs {
				if !IsRemovableMark(c.lang, r) {
					o = append(o, r)
				}
			}
			return string(o)
		}
		if strip(a) != strip(b) {
			t.Errorf("%s: removed something other than marks: %q -> %q", c.lang, c.text, out)
		}
	}
	if _, err := Perturb(ctx, "ما هي عاصمة مصر", "ar", Diacritics, RNG(1, "a", Diacritics), Options{}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("undiacritized Arabic: err = %v, want ErrNotApplicable", err)
	}
	if _, err := Perturb(ctx, "hello", "fi", Diacritics, RNG(1, "a", Diacritics), Options{}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("fi: err = %v", err)
	}
}

func TestSegmentAndWordSwap(t *testing.T) {
	ko := samples["ko"]
	joined, split := 0, 0
	for seed := uint64(0); seed < 30; seed++ {
		out, err := Perturb(ctx, ko, "ko", Segment, RNG(seed, "ko", Segment), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.ReplaceAll(out, " ", "") != strings.ReplaceAll(ko, " ", "") {
			t.Fatalf("ko segment changed more than spacing: %q", out)
		}
		if strings.Count(out, " ") < strings.Count(ko, " ") {
			joined++
		} else {
			split++
		}
	}
	if joined == 0 || split == 0 {
		t.Errorf("ko segment: %d joins, %d splits over 30 seeds; want both", joined, split)
	}
	out, err := Perturb(ctx, "日本の首都", "ja", Segment, RNG(1, "ja", Segment), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(out, " ", "") != "日本の首都" || strings.Count(out, " ") != 1 {
		t.Errorf("ja segment: %q", out)
	}
	if out, _ := Perturb(ctx, "日本 の首都", "ja", Segment, RNG(1, "ja", Segment), Options{}); out != "日本の首都" {
		t.Errorf("ja segment with a space: %q, want it removed", out)
	}
	out, err = Perturb(ctx, "Mikä on Suomen pääkaupunki?", "fi", WordSwap, RNG(2, "fi", WordSwap), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, "?") || len(strings.Fields(out)) != 4 || out == samples["fi"] {
		t.Errorf("fi word swap: %q", out)
	}
	out, err = Perturb(ctx, "日本の首都", "ja", WordSwap, RNG(2, "ja", WordSwap), Options{})
	if err != nil || len([]rune(out)) != 5 || out == "日本の首都" {
		t.Errorf("ja word swap: %q %v", out, err)
	}
	if _, err := Perturb(ctx, "Helsinki", "fi", WordSwap, RNG(2, "fi", WordSwap), Options{}); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("one word: err = %v", err)
	}
}

func TestParaphraseNeedsParaphraser(t *testing.T) {
	if _, err := Perturb(ctx, "x y", "fi", Paraphrase, RNG(1, "p", Paraphrase), Options{}); err == nil || errors.Is(err, ErrNotApplicable) {
		t.Errorf("err = %v, want a missing-paraphraser error", err)
	}
}

func TestParseTypes(t *testing.T) {
	ts, err := ParseTypes("insert, keyboard")
	if err != nil || len(ts) != 2 || ts[1] != Keyboard {
		t.Errorf("%v %v", ts, err)
	}
	if _, err := ParseTypes("insert,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("bogus: %v", err)
	}
	if ts, _ := ParseTypes("all"); len(ts) != len(AllTypes) {
		t.Errorf("all: %v", ts)
	}
}

func TestGenerateDeterministicOnRealQueries(t *testing.T) {
	qs, err := eval.LoadXORJSONL(filepath.Join(dataDir(t), "xor-tydi", "xor_dev_retrieve_eng_span_v1_1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	types := []Type{Insert, Delete, Substitute, Swap, Keyboard, Diacritics, Segment, WordSwap}
	a, skipped, err := Generate(ctx, qs, types, 42, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Generate(ctx, qs, types, 42, Options{})
	c, _, _ := Generate(ctx, qs, types, 43, Options{})
	var ba, bb, bc bytes.Buffer
	WriteJSONL(&ba, a)
	WriteJSONL(&bb, b)
	WriteJSONL(&bc, c)
	if !bytes.Equal(ba.Bytes(), bb.Bytes()) {
		t.Error("same seed, different output")
	}
	if bytes.Equal(ba.Bytes(), bc.Bytes()) {
		t.Error("different seeds, same output")
	}
	// A query's perturbation does not depend on the other queries.
	sub, _, _ := Generate(ctx, qs[100:101], []Type{Insert}, 42, Options{})
	for _, x := range a {
		if x.ID == sub[0].ID && x.Text != sub[0].Text {
			t.Errorf("subset changed the perturbation: %q vs %q", x.Text, sub[0].Text)
		}
	}
	per := map[Type]int{}
	for _, x := range a {
		per[x.Type]++
		if x.Text == x.Original || !utf8.ValidString(x.Text) || x.Answers == nil {
			t.Fatalf("bad attacked query %+v", x)
		}
	}
	t.Logf("attacked per type %v; skipped %v", per, skipped)
	for _, typ := range []Type{Insert, Delete, Substitute, Swap} {
		if per[typ] < len(qs)*9/10 {
			t.Errorf("%s: only %d of %d queries attacked", typ, per[typ], len(qs))
		}
	}
	if per[Keyboard] < 1000 || per[Segment] < 400 || per[Diacritics] < 400 {
		t.Errorf("too few language-specific attacks: %v", per)
	}
}

func TestScoreHandComputed(t *testing.T) {
	pairs := map[string][]Pair{"xqg": {
		{QueryID: "1", Lang: "fi", Type: Insert, Clean: 1, Attack: 1},
		{QueryID: "2", Lang: "fi", Type: Insert, Clean: 1, Attack: 0},
		{QueryID: "3", Lang: "ru", Type: Insert, Clean: 1, Attack: 0},
		{QueryID: "4", Lang: "ru", Type: Insert, Clean: 0, Attack: 0},
	}}
	rows, err := Score(pairs, ScoreConfig{Rounds: 500, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Row{}
	for _, r := range rows {
		got[r.Group] = r
	}
	all := got["all"]
	if all.N != 4 || all.Clean.Value != 75 || all.Attacked.Value != 25 || math.Abs(all.RelDrop.Value-200.0/3) > 1e-9 || math.Abs(all.SuccessRate.Value-200.0/3) > 1e-9 {
		t.Errorf("all: %+v", all)
	}
	if all.Clean.Lo > 75 || all.Clean.Hi < 75 {
		t.Errorf("CI does not contain the value: %+v", all.Clean)
	}
	if got["Uralic"].N != 2 || got["fi"].SuccessRate.Value != 50 || got["Slavic"].RelDrop.Value != 100 {
		t.Errorf("groups: %+v", got)
	}
	files, err := DropChart(filepath.Join(t.TempDir(), "drop"), rows, Insert, []string{"fi", "ru", "all"})
	if err != nil || len(files) != 2 {
		t.Fatalf("chart: %v %v", files, err)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Size() == 0 {
		t.Errorf("chart file: %v", err)
	}
}

func TestPairsFromRankings(t *testing.T) {
	as := []Attacked{{Query: eval.Query{ID: "q#insert", Lang: "fi", Relevant: map[string]int{"p1": 1}}, OrigID: "q", Type: Insert}}
	ps, err := PairsFromRankings(as, map[string][]string{"q": {"p1", "p2"}}, map[string][]string{"q#insert": {"p2", "p3", "p1"}}, 2)
	if err != nil || len(ps) != 1 || ps[0].Clean != 1 || ps[0].Attack != 0 {
		t.Errorf("%+v %v", ps, err)
	}
	if _, err := PairsFromRankings(as, nil, nil, 2); err == nil {
		t.Error("missing clean ranking: want error")
	}
}
