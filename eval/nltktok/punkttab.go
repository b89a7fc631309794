package nltktok

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LoadPunktTab reads trained Punkt parameters in NLTK's punkt_tab layout
// (NLTK >= 3.8.2: tokenizers/punkt_tab/<language>/): abbrev_types.txt and
// sentence_starters.txt (one type per line), collocations.tab (two types
// per line, tab-separated) and ortho_context.tab (type<TAB>flags). Missing
// files leave the corresponding parameter empty.
func LoadPunktTab(dir string) (*PunktParams, error) {
	p := &PunktParams{
		AbbrevTypes:  map[string]bool{},
		Collocations: map[[2]string]bool{},
		SentStarters: map[string]bool{},
		OrthoContext: map[string]int{},
	}
	found := 0
	read := func(name string, fn func(lineNo int, fields []string) error) error {
		f, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("punkt_tab: %w", err)
		}
		defer f.Close()
		found++
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimRight(sc.Text(), "\r")
			if line == "" {
				continue
			}
			if err := fn(n, strings.Split(line, "\t")); err != nil {
				return fmt.Errorf("punkt_tab: %s:%d: %w", f.Name(), n, err)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("punkt_tab: %s: %w", f.Name(), err)
		}
		return nil
	}
	steps := []struct {
		name string
		fn   func(int, []string) error
	}{
		{"abbrev_types.txt", func(_ int, f []string) error { p.AbbrevTypes[f[0]] = true; return nil }},
		{"sentence_starters.txt", func(_ int, f []string) error { p.SentStarters[f[0]] = true; return nil }},
		{"collocations.tab", func(_ int, f []string) error {
			if len(f) != 2 {
				return fmt.Errorf("want 2 tab-separated fields, got %d", len(f))
			}
			p.Collocations[[2]string{f[0], f[1]}] = true
			return nil
		}},
		{"ortho_context.tab", func(_ int, f []string) error {
			if len(f) != 2 {
				return fmt.Errorf("want 2 tab-separated fields, got %d", len(f))
			}
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return fmt.Errorf("ortho flags: %w", err)
			}
			p.OrthoContext[f[0]] |= v
			return nil
		}},
	}
	for _, s := range steps {
		if err := read(s.name, s.fn); err != nil {
			return nil, err
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("punkt_tab: %s holds none of abbrev_types.txt, sentence_starters.txt, collocations.tab, ortho_context.tab", dir)
	}
	return p, nil
}
