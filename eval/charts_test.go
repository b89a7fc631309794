package eval

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func checkChartFiles(t *testing.T, files []string) {
	t.Helper()
	if len(files) != 2 {
		t.Fatalf("files %v, want a PNG and an SVG", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if img.Bounds().Dx() < 100 || img.Bounds().Dy() < 100 {
				t.Errorf("%s: %v too small", f, img.Bounds())
			}
		case ".svg":
			dec := xml.NewDecoder(bytes.NewReader(b))
			root := ""
			for {
				tok, err := dec.Token()
				if err != nil {
					if root == "" {
						t.Fatalf("%s: not XML: %v", f, err)
					}
					break
				}
				if se, ok := tok.(xml.StartElement); ok && root == "" {
					root = se.Name.Local
				}
			}
			if root != "svg" {
				t.Errorf("%s: root element %q", f, root)
			}
		default:
			t.Errorf("unexpected file %s", f)
		}
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	langs := []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"}
	files, err := BarChart(filepath.Join(dir, "bars"), "R@2kt", "R@2kt", langs, []Series{
		{Name: "passage", Values: []float64{40, 35, 50, 38, 41, 44, 30}},
		{Name: "xqg", Values: []float64{42, 37, 51, 40, 43, 45, 33},
			Lo: []float64{40, 35, 49, 38, 41, 43, 31}, Hi: []float64{44, 39, 53, 42, 45, 47, 35}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkChartFiles(t, files)

	files, err = TradeoffScatter(filepath.Join(dir, "sub", "tradeoff"), "trade-off", "R@2kt", []TradeoffPoint{
		{Label: "S", LatencyMS: 4, Effectiveness: 30}, {Label: "S+xQG", LatencyMS: 4.1, Effectiveness: 35},
		{Label: "L", LatencyMS: 25, Effectiveness: 45, Cited: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkChartFiles(t, files)
	svg, _ := os.ReadFile(files[1])
	if !strings.Contains(string(svg), "cited") {
		t.Error("scatter SVG does not label cited points")
	}

	rep := &Report{Dataset: "xquad-ru", Langs: []string{"fi", "ru"}, Metrics: []string{"R@2kt"}, Targets: []TargetReport{
		{Target: "xqg", PerLang: map[string]map[string]float64{"R@2kt": {"fi": 50, "ru": 60}}, Macro: map[string]float64{"R@2kt": 55}},
		{Target: "passage", PerLang: map[string]map[string]float64{"R@2kt": {"fi": 45, "ru": 50}}, Macro: map[string]float64{"R@2kt": 47.5}},
	}}
	files, err = rep.LanguageBars(dir, "R@2kt")
	if err != nil {
		t.Fatal(err)
	}
	checkChartFiles(t, files)

	if _, err := BarChart(filepath.Join(dir, "bad"), "x", "y", langs, []Series{{Name: "a", Values: []float64{1}}}); err == nil {
		t.Error("length mismatch: want error")
	}
	if _, err := TradeoffScatter(filepath.Join(dir, "none"), "x", "y", nil); err == nil {
		t.Error("no points: want error")
	}
}
