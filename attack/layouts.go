package attack

// Keyboard layouts as grids of keys (rows top to bottom, the letter keys
// only). Neighbours are the keys left and right on the same row and the
// two touching keys on the rows above and below (rows are staggered, so a
// key at column c touches c and c+1 above and c-1 and c below). 0 marks a
// key that produces no single character here.
var layouts = map[string][][]rune{
	// Finnish: QWERTY with å, ö, ä (SFS 5966 letter keys).
	"fi": {
		[]rune("qwertyuiopå"),
		[]rune("asdfghjklöä"),
		[]rune("zxcvbnm"),
	},
	// Russian: ЙЦУКЕН.
	"ru": {
		[]rune("йцукенгшщзхъ"),
		[]rune("фывапролджэ"),
		[]rune("ячсмитьбю"),
	},
	// Arabic: the common PC layout (Arabic 101); the لا key is two letters.
	"ar": {
		[]rune("ضصثقفغعهخحجد"),
		[]rune("شسيبلاتنمكط"),
		{'ئ', 'ء', 'ؤ', 'ر', 0, 'ى', 'ة', 'و', 'ز', 'ظ'},
	},
	// Korean: 2-set (Dubeolsik), on compatibility jamo; typos are applied
	// to one jamo of a syllable and the syllable recomposed.
	"ko": {
		[]rune("ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ"),
		[]rune("ㅁㄴㅇㄹㅎㅗㅓㅏㅣ"),
		[]rune("ㅋㅌㅊㅍㅠㅜㅡ"),
	},
}

// KeyboardLangs lists the languages with a keyboard layout. Bengali, Telugu
// and Japanese are typed through input methods (transliteration, kana-kanji
// conversion) where a neighbouring key does not map to a neighbouring
// character, so they have none.
func KeyboardLangs() []string { return []string{"ar", "fi", "ko", "ru"} }

// neighbours returns the keyboard neighbours of r in lang's layout.
func neighbours(lang string, r rune) []rune {
	grid, ok := layouts[lang]
	if !ok {
		return nil
	}
	for ri, row := range grid {
		for ci, k := range row {
			if k != r {
				continue
			}
			var out []rune
			add := func(rr, cc int) {
				if rr >= 0 && rr < len(grid) && cc >= 0 && cc < len(grid[rr]) && grid[rr][cc] != 0 {
					out = append(out, grid[rr][cc])
				}
			}
			add(ri, ci-1)
			add(ri, ci+1)
			add(ri-1, ci)
			add(ri-1, ci+1)
			add(ri+1, ci-1)
			add(ri+1, ci)
			return out
		}
	}
	return nil
}
