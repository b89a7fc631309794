package nltktok

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/xqg/xqg/eval/internal/pyref"
)

// Expected outputs were written from NLTK 3.8's documented behaviour and
// are re-checked against the real NLTK in TestTrickyMatchesPython.
var tricky = []struct {
	name string
	in   string
	want []string
}{
	{"nltk doc example", "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.",
		[]string{"Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in", "New", "York", ".", "Please", "buy", "me", "two", "of", "them", ".", "Thanks", "."}},
	{"double quotes", `He said "hello" to me.`, []string{"He", "said", "``", "hello", "''", "to", "me", "."}},
	{"leading quote", `"Yes," she said.`, []string{"``", "Yes", ",", "''", "she", "said", "."}},
	{"curly quotes", "“Quoted” and ‘single’ «guillemets»", []string{"“", "Quoted", "”", "and", "‘", "single", "’", "«", "guillemets", "»"}},
	{"contractions", "I can't, won't, and they're gonna do it.", []string{"I", "ca", "n't", ",", "wo", "n't", ",", "and", "they", "'re", "gon", "na", "do", "it", "."}},
	{"cannot", "You cannot go", []string{"You", "can", "not", "go"}},
	{"possessive", "John's dog's bone", []string{"John", "'s", "dog", "'s", "bone"}},
	{"hyphens", "state-of-the-art well--known", []string{"state-of-the-art", "well", "--", "known"}},
	{"numbers with commas", "It cost 1,000,000 dollars, or 3.5%.", []string{"It", "cost", "1,000,000", "dollars", ",", "or", "3.5", "%", "."}},
	{"ellipsis", "Wait... what?", []string{"Wait", "...", "what", "?"}},
	{"abbreviation untrained", "Mr. Smith arrived.", []string{"Mr", ".", "Smith", "arrived", "."}},
	{"initial kept", "J. S. Bach wrote it.", []string{"J.", "S.", "Bach", "wrote", "it", "."}},
	{"multi punctuation", "Really?! Yes!!", []string{"Really", "?", "!", "Yes", "!", "!"}},
	{"brackets", "a [b] {c} <d>", []string{"a", "[", "b", "]", "{", "c", "}", "<", "d", ">"}},
	{"paren after period", "(He left.) Then", []string{"(", "He", "left", ".", ")", "Then"}},
	{"time and colon", "At 10:30: done", []string{"At", "10:30", ":", "done"}},
	{"cyrillic", "Москва — столица России.", []string{"Москва", "—", "столица", "России", "."}},
	{"arabic", "ما هي عاصمة مصر؟", []string{"ما", "هي", "عاصمة", "مصر؟"}},
	{"japanese", "東京は日本の首都です。", []string{"東京は日本の首都です。"}},
	{"bengali", "বাংলাদেশের রাজধানী কী?", []string{"বাংলাদেশের", "রাজধানী", "কী", "?"}},
	{"empty", "", nil},
	{"spaces only", "   \n ", nil},
}

func TestTreebankTricky(t *testing.T) {
	for _, tc := range tricky {
		t.Run(tc.name, func(t *testing.T) {
			got := WordTokenize(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("WordTokenize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTrickyMatchesPython(t *testing.T) {
	var in []string
	for _, tc := range tricky {
		in = append(in, tc.in)
	}
	in = append(in, extraTricky...)
	compareWithPython(t, in, nil, "")
}

var extraTricky = []string{
	"'Tis the season. 'Twas night.", "Don't 'quote' me", "It's 5 o'clock, isn't it?",
	"He said, \"I'll go\"--then left.", "U.S. forces entered Iraq. The war began.",
	"The result was 3.14. Next sentence", "Sent one! Sent two? Sent three.", "End with quote.\" Next one",
	"email@example.com #hashtag $5 & co; 50%", "x*y=z", "Wanna go? Gimme that. Lemme see. Gotta run.",
	"more'n enough, d'ye see", "whaddya think", "Numbers: 1,2,3 and 4, 5", "a,b ,c", "trailing comma,",
	"He shouted:", "...starting ellipsis", "a.b.c. d", "Nov. 5 1999. It rained.", "ending with period.\n",
	"line one.\nline two.\n\nparagraph three.", "tab\tseparated\ttext.", "non\u00a0breaking space.",
	"Ё́лка. Über naïve café—résumé.", "Ἀθῆναι.", "नमस्ते दुनिया। यह परीक्षण है।", "తెలుగు భాష. రెండవ వాక్యం.",
	"서울은 한국의 수도이다. 두 번째 문장.", "Helsinki on Suomen pääkaupunki. Toinen lause.",
	"ʻOkina and ‘quotes’ aren't the same.", "(1) first; (2) second.", "`backticks` and ``double``",
	"She's 'done' it.", "O'Neil's book isn't here.", "1990s–2000s 10–20 km", "A. B. Lincoln.",
	"I.e. this. E.g. that.", "Ph.D. students", "hello!!! world...", "5.  Five", "end.)\n(start",
}

// compareWithPython tokenizes texts in Go and in NLTK and reports the
// differences (at most 20).
func compareWithPython(t *testing.T, texts []string, tok *WordTokenizer, punktTab string) {
	t.Helper()
	args := []string{"tokenize"}
	if punktTab != "" {
		args = append(args, "--punkt-tab", punktTab)
	}
	want := pyref.DecodeLines[[]string](t, pyref.Run(t, pyref.Lines(t, texts), args...))
	if len(want) != len(texts) {
		t.Fatalf("reference returned %d results for %d texts", len(want), len(texts))
	}
	if tok == nil {
		tok = NewWordTokenizer(nil)
	}
	bad := 0
	for i, s := range texts {
		got := tok.Tokenize(s)
		if len(got) == 0 && len(want[i]) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want[i]) {
			bad++
			if bad <= 20 {
				t.Errorf("text %d %q\n go  %q\n nltk %q", i, s, got, want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d texts differ from NLTK", bad, len(texts))
	}
	t.Logf("%d texts compared with NLTK", len(texts))
}

func TestClassesMatchPython(t *testing.T) {
	out := pyref.Run(t, nil, "classes")
	var cls map[string][]int
	if err := json.Unmarshal(out, &cls); err != nil {
		t.Fatal(err)
	}
	unassigned := map[rune]bool{}
	for _, c := range cls["unassigned"] {
		unassigned[rune(c)] = true
	}
	check := func(name string, fn func(rune) bool) {
		want := map[rune]bool{}
		for _, c := range cls[name] {
			want[rune(c)] = true
		}
		diff := 0
		for r := rune(0); r <= unicode.MaxRune; r++ {
			// Go's tables are newer than CPython 3.11's Unicode 14.
			if unassigned[r] {
				continue
			}
			if fn(r) != want[r] {
				diff++
				if diff < 10 {
					t.Logf("%s: U+%04X go=%v python=%v", name, r, fn(r), want[r])
				}
			}
		}
		// A few properties changed after Unicode 14 (e.g. Other_Lowercase).
		if diff > 20 {
			t.Errorf("%s: %d code points differ", name, diff)
		}
	}
	check("w", isPyWord)
	check("d", func(r rune) bool { return unicode.Is(unicode.Nd, r) })
	check("s", isPySpace)
	check("upper", isPyUpper)
	check("lower", isPyLower)
}

// realTexts gathers several thousand texts from the shared data sets.
func realTexts(t *testing.T) []string {
	dir := pyref.DataDir(t)
	var texts []string
	// XQuAD: English paragraphs, questions and answers in several scripts.
	for _, lang := range []string{"en", "ru", "ar", "hi", "zh", "th", "el"} {
		b, err := os.ReadFile(filepath.Join(dir, "xquad", "xquad."+lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var sq struct {
			Data []struct {
				Paragraphs []struct {
					Context string `json:"context"`
					QAs     []struct {
						Question string `json:"question"`
						Answers  []struct {
							Text string `json:"text"`
						} `json:"answers"`
					} `json:"qas"`
				} `json:"paragraphs"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &sq); err != nil {
			t.Fatal(err)
		}
		for _, a := range sq.Data {
			for pi, p := range a.Paragraphs {
				if lang == "en" || pi%8 == 0 {
					texts = append(texts, p.Context)
				}
				for qi, q := range p.QAs {
					if lang == "en" || qi%3 == 0 {
						texts = append(texts, q.Question)
						for _, an := range q.Answers {
							texts = append(texts, an.Text)
						}
					}
				}
			}
		}
	}
	// XOR-TyDi questions and answers.
	f, err := os.Open(filepath.Join(dir, "xor-tydi", "xor_dev_retrieve_eng_span_v1_1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q struct {
			Question string   `json:"question"`
			Answers  []string `json:"answers"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, q.Question)
		texts = append(texts, q.Answers...)
	}
	// NTREX English news sentences, joined into documents of 5 lines so
	// sentence splitting is exercised.
	b, err := os.ReadFile(filepath.Join(dir, "ntrex-128", "newstest2019-src.eng.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i += 5 {
		texts = append(texts, strings.Join(lines[i:min(i+5, len(lines))], " "))
	}
	return texts
}

func TestRealTextsMatchPython(t *testing.T) {
	texts := realTexts(t)
	if len(texts) < 3000 {
		t.Fatalf("only %d texts gathered", len(texts))
	}
	compareWithPython(t, texts, nil, "")
}

func TestSentencesMatchPython(t *testing.T) {
	texts := append([]string{}, extraTricky...)
	for _, tc := range tricky {
		texts = append(texts, tc.in)
	}
	want := pyref.DecodeLines[[]string](t, pyref.Run(t, pyref.Lines(t, texts), "sentences"))
	p := NewPunkt(nil)
	for i, s := range texts {
		got := p.Sentences(s)
		if len(got) == 0 && len(want[i]) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("Sentences(%q)\n go  %q\n nltk %q", s, got, want[i])
		}
	}
}

func TestPunktTabMatchesPython(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"abbrev_types.txt":      "mr\ndr\nu.s\ne.g\ni.e\nph.d\nnov\nvs\n",
		"sentence_starters.txt": "the\nit\nbut\n",
		"collocations.tab":      "##number##\tjanuary\n",
		"ortho_context.tab":     "the\t" + itoa(OrthoBegUC|OrthoMidLC) + "\nsmith\t" + itoa(OrthoMidUC) + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	params, err := LoadPunktTab(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !params.AbbrevTypes["u.s"] || !params.Collocations[[2]string{"##number##", "january"}] || params.OrthoContext["the"] != OrthoBegUC|OrthoMidLC {
		t.Fatalf("params not loaded: %+v", params)
	}
	texts := append([]string{
		"Mr. Smith met Dr. Jones. The end.", "The U.S. Army left. It was over.", "On 5. January it snowed.",
		"See e.g. this, i.e. that. But no.", "A Ph.D. student vs. a professor. The end.",
	}, extraTricky...)
	compareWithPython(t, texts, NewWordTokenizer(NewPunkt(params)), dir)
}

func TestLoadPunktTabErrors(t *testing.T) {
	if _, err := LoadPunktTab(t.TempDir()); err == nil {
		t.Error("empty dir: want error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ortho_context.tab"), []byte("the\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPunktTab(dir)
	if err == nil || !strings.Contains(err.Error(), "ortho_context.tab:1") {
		t.Errorf("bad flags: err = %v, want one naming ortho_context.tab:1", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func BenchmarkWordTokenize(b *testing.B) {
	text := "The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse (\"Norman\" comes from \"Norseman\") raiders and pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia."
	tok := NewWordTokenizer(nil)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Tokenize(text)
	}
}
