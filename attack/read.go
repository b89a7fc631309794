package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// LoadJSONL reads attacked queries written by WriteJSONL (`xqg attack generate`).
func LoadJSONL(path string) ([]Attacked, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("attacked queries: %w", err)
	}
	defer f.Close()
	return ReadJSONL(f, path)
}

// ReadJSONL is LoadJSONL on a reader; name labels errors.
func ReadJSONL(r io.Reader, name string) ([]Attacked, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []Attacked
	seen := map[string]int{}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var a Attacked
			if jerr := json.Unmarshal(line, &a); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n, jerr)
			}
			known := false
			for _, t := range AllTypes {
				known = known || t == a.Type
			}
			switch {
			case a.ID == "":
				return nil, fmt.Errorf("%s:%d: missing \"id\"", name, n)
			case a.OrigID == "":
				return nil, fmt.Errorf("%s:%d: id %s: missing \"orig_id\" (not an attack generate file?)", name, n, a.ID)
			case !known:
				return nil, fmt.Errorf("%s:%d: id %s: \"attack\" %q: want %s", name, n, a.ID, a.Type, typeList())
			case a.Lang == "":
				return nil, fmt.Errorf("%s:%d: id %s: missing \"lang\"", name, n, a.ID)
			}
			if prev, dup := seen[a.ID]; dup {
				return nil, fmt.Errorf("%s:%d: id %s already on line %d", name, n, a.ID, prev)
			}
			seen[a.ID] = n
			out = append(out, a)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
}
