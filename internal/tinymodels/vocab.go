package tinymodels

import (
	"strings"
)

// The tiny vocabularies are built from fixed lists, in a fixed order, so the
// written tokenizer.json files are byte-identical on every run. They cover
// the prompt template, common English and the scripts of the paper's seven
// target languages (ar bn fi ja ko ru te), so multilingual test text
// tokenizes into real pieces instead of [UNK].

var englishWords = strings.Fields(`
the of and to a in is was for on that with as by it at from his he an be
are were which this or has had not but have its first also their after one
new who they been two her she there all other more when time into year
years during most only over such some would than later may can made many
where these used known city school world state states area between three
under world war people part because while both well born including team
film since name called each through up out about could what did do does
how why who whom whose when where which question questions answer answers
passage passages generate generated query queries language languages
document documents title text search retrieval cross lingual model models
Generate Arabic Bengali Finnish Japanese Korean Russian Telugu English
question: passage: query: title: The A In It He She This What Who When
Where Which How Why Is Are Was Were Do Does Did
country river mountain capital university president king population
century history music football village island church north south east west
family house water air fire earth light day night life death love
number system government company national international american british
french german india china japan korea russia finland egypt bangladesh
united kingdom york london paris tokyo seoul moscow helsinki cairo dhaka
largest longest highest oldest famous written founded located released
play played plays game games song songs book books work works worked
`)

// scriptChars: letters (and combining signs that words need) of each
// script, kept short enough for a vocabulary of about two thousand.
var scriptChars = []string{
	// Latin, with Finnish and a few common accents.
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöåÄÖÅéèüß",
	"0123456789",
	// Cyrillic (Russian).
	"абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
	// Arabic letters, hamza forms, ta marbuta, alif maqsura.
	"ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي",
	// Bengali letters, vowel signs, virama.
	"অআইঈউঊঋএঐওঔকখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহড়ঢ়য়ংঃঁািীুূৃেৈোৌ্",
	// Telugu letters, vowel signs, virama.
	"అఆఇఈఉఊఋఎఏఐఒఓఔకఖగఘఙచఛజఝఞటఠడఢణతథదధనపఫబభమయరఱలళవశషసహంఃాిీుూృెేైొోౌ్",
	// Hiragana and katakana.
	"あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽっゃゅょー",
	"アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポッャュョ",
	// Common kanji (also CJK for the BERT normalizer's CJK splitting).
	"日本人年大国中一二三十月時学生東京語何誰市山川者名前後最初首都世界長川島駅会社問題質答文書読話手出入上下",
	// Common Hangul syllables.
	"가나다라마바사아자차카타파하고는을를이에의한서로도과와지기리시인대정국어학생년무엇누구언제어디왜어떻게있없했습니까요다수입것들세상람말일월화문제답질여저그은가장긴강계도시주부산울경서울",
	// Punctuation.
	".,!?;:'\"()-[]/&%$#@*+=<>«»“”‘’、。「」？！・",
}

func uniqueRunes() []string {
	seen := map[rune]bool{}
	var out []string
	for _, s := range scriptChars {
		for _, r := range s {
			if !seen[r] {
				seen[r] = true
				out = append(out, string(r))
			}
		}
	}
	return out
}

func uniqueWords() []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range englishWords {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Special token ids of the tiny BERT vocabulary.
const (
	BertPadID  = 0
	BertUNKID  = 1
	BertCLSID  = 2
	BertSEPID  = 3
	BertMaskID = 4
)

var bertSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// wordPieceVocab: specials, characters, "##" continuations of each
// character, then whole words (punctuation-free, as BertPreTokenizer
// leaves them).
func wordPieceVocab() []string {
	vocab := append([]string{}, bertSpecials...)
	seen := map[string]bool{}
	for _, s := range vocab {
		seen[s] = true
	}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			vocab = append(vocab, s)
		}
	}
	chars := uniqueRunes()
	for _, c := range chars {
		add(c)
	}
	for _, c := range chars {
		add("##" + c)
	}
	for _, w := range uniqueWords() {
		add(strings.TrimRight(w, ":"))
		// Frequent suffixes make inflected words two pieces, not many.
	}
	for _, suf := range []string{"s", "es", "ed", "ing", "ly", "er", "est", "ion", "al"} {
		add("##" + suf)
	}
	return vocab
}

// Special token ids of the tiny T5 vocabulary (as in mT5).
const (
	T5PadID = 0
	T5EOSID = 1
	T5UNKID = 2
)

// metaspace is the SentencePiece word-boundary marker.
const metaspace = "▁"

type unigramPiece struct {
	piece string
	score float64
}

// unigramVocab: <pad> </s> <unk>, the bare marker, "▁word" pieces,
// "▁c" and "c" for every character. Scores favour whole words, so the
// Viterbi segmentation of a known word is the word.
func unigramVocab() []unigramPiece {
	vocab := []unigramPiece{{"<pad>", 0}, {"</s>", 0}, {"<unk>", 0}}
	seen := map[string]bool{"<pad>": true, "</s>": true, "<unk>": true}
	add := func(p string, score float64) {
		if !seen[p] {
			seen[p] = true
			vocab = append(vocab, unigramPiece{p, score})
		}
	}
	add(metaspace, -4)
	for i, w := range uniqueWords() {
		// Slightly decreasing scores keep ties (and so segmentations)
		// deterministic.
		add(metaspace+w, -6-float64(i)/1000)
	}
	for i, c := range uniqueRunes() {
		add(metaspace+c, -9-float64(i)/10000)
	}
	for i, c := range uniqueRunes() {
		add(c, -10-float64(i)/10000)
	}
	return vocab
}
