package nltktok

// WordTokenizer is nltk.word_tokenize: Punkt sentence splitting, then the
// Treebank word tokenizer on each sentence.
//
// NLTK's word_tokenize loads the trained English Punkt model
// (tokenizers/punkt/english.pickle). That model is not shipped with Debian's
// python3-nltk and cannot be downloaded offline, so the default here is an
// untrained Punkt (no abbreviation list): "Mr. Smith" splits into two
// sentences and yields "Mr" "." where the trained model yields "Mr.".
// Load a punkt_tab directory with LoadPunktTab to use trained parameters.
type WordTokenizer struct {
	punkt *Punkt
}

// NewWordTokenizer returns a word tokenizer splitting sentences with punkt
// (nil: untrained Punkt).
func NewWordTokenizer(punkt *Punkt) *WordTokenizer {
	if punkt == nil {
		punkt = NewPunkt(nil)
	}
	return &WordTokenizer{punkt: punkt}
}

// Tokenize returns the word tokens of text.
func (w *WordTokenizer) Tokenize(text string) []string {
	var out []string
	for _, s := range w.punkt.Sentences(text) {
		out = append(out, TreebankTokenize(s)...)
	}
	return out
}

// WordTokenize is word_tokenize(text) with an untrained Punkt model.
func WordTokenize(text string) []string {
	return NewWordTokenizer(nil).Tokenize(text)
}
