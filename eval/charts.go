package eval

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one bar group (e.g. a target) over categories.
type Series struct {
	Name   string
	Values []float64
	// Lo/Hi, when set, are confidence bounds drawn as error bars.
	Lo, Hi []float64
}

// TradeoffPoint is one system in the latency–effectiveness plot.
type TradeoffPoint struct {
	Label         string
	LatencyMS     float64
	Effectiveness float64
	Cited         bool // effectiveness taken from a paper, not measured
}

// savePlot writes base.png and base.svg and returns their paths.
func savePlot(p *plot.Plot, base string, w, h vg.Length) ([]string, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	var out []string
	for _, ext := range []string{".png", ".svg"} {
		path := base + ext
		if err := p.Save(w, h, path); err != nil {
			return nil, fmt.Errorf("chart %s: %w", path, err)
		}
		out = append(out, path)
	}
	return out, nil
}

// BarChart draws grouped bars: one group per category (e.g. language),
// one bar per series (e.g. target).
func BarChart(base, title, ylabel string, categories []string, series []Series) ([]string, error) {
	if len(categories) == 0 || len(series) == 0 {
		return nil, fmt.Errorf("chart %s: no data", base)
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	width := vg.Length(max(6, len(categories))) * vg.Inch
	// Bars sit at data positions (category index + offset), so error bars
	// land on them exactly; the drawn width approximates 80% of a category
	// shared among the series.
	slot := 0.8 / float64(len(series))
	w := (width - vg.Inch) / vg.Length(len(categories)) * vg.Length(slot)
	for i, s := range series {
		if len(s.Values) != len(categories) {
			return nil, fmt.Errorf("chart %s: series %s has %d values for %d categories", base, s.Name, len(s.Values), len(categories))
		}
		bars, err := plotter.NewBarChart(plotter.Values(s.Values), w)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", base, err)
		}
		bars.LineStyle.Width = vg.Length(0)
		bars.Color = plotutil.Color(i)
		bars.XMin = slot * (float64(i) - float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
		if len(s.Lo) == len(s.Values) && len(s.Hi) == len(s.Values) {
			pts := make(plotter.XYs, len(s.Values))
			errs := make(plotter.YErrors, len(s.Values))
			for j, v := range s.Values {
				pts[j] = plotter.XY{X: float64(j) + bars.XMin, Y: v}
				errs[j].Low, errs[j].High = v-s.Lo[j], s.Hi[j]-v
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{pts, errs})
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", base, err)
			}
			p.Add(eb)
		}
	}
	p.Legend.Top = true
	p.NominalX(categories...)
	return savePlot(p, base, width, 4*vg.Inch)
}

// TradeoffScatter plots query latency (x) against effectiveness (y);
// cited points are drawn hollow and labelled "(cited)".
func TradeoffScatter(base, title, effLabel string, points []TradeoffPoint) ([]string, error) {
	if len(points) == 0 {
		return nil, fmt.Errorf("chart %s: no points", base)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "query latency p50 (ms)"
	p.Y.Label.Text = effLabel
	var measured, cited plotter.XYs
	var labels []string
	xys := make(plotter.XYs, len(points))
	for i, pt := range points {
		xy := plotter.XY{X: pt.LatencyMS, Y: pt.Effectiveness}
		xys[i] = xy
		l := pt.Label
		if pt.Cited {
			cited = append(cited, xy)
			l += " (cited)"
		} else {
			measured = append(measured, xy)
		}
		labels = append(labels, l)
	}
	add := func(name string, pts plotter.XYs, shape draw.GlyphDrawer, c color.Color) error {
		if len(pts) == 0 {
			return nil
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		s.GlyphStyle.Shape, s.GlyphStyle.Color, s.GlyphStyle.Radius = shape, c, vg.Points(4)
		p.Add(s)
		p.Legend.Add(name, s)
		return nil
	}
	if err := add("measured", measured, draw.CircleGlyph{}, plotutil.Color(0)); err != nil {
		return nil, fmt.Errorf("chart %s: %w", base, err)
	}
	if err := add("cited", cited, draw.RingGlyph{}, plotutil.Color(1)); err != nil {
		return nil, fmt.Errorf("chart %s: %w", base, err)
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", base, err)
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = draw.XLeft
	}
	lb.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
	p.Add(lb)
	// Pad the ranges so that points and their labels stay off the frame and the legend.
	xmin, xmax, ymin, ymax := xys[0].X, xys[0].X, xys[0].Y, xys[0].Y
	for _, xy := range xys {
		xmin, xmax = min(xmin, xy.X), max(xmax, xy.X)
		ymin, ymax = min(ymin, xy.Y), max(ymax, xy.Y)
	}
	dx, dy := max((xmax-xmin)*0.15, xmax*0.05, 1), max((ymax-ymin)*0.2, 1)
	p.X.Min, p.X.Max = max(0, xmin-dx), xmax+3*dx // labels extend to the right
	p.Y.Min, p.Y.Max = ymin-dy, ymax+dy
	p.Legend.Top = false
	p.Legend.Left = false
	return savePlot(p, base, 7*vg.Inch, 4.5*vg.Inch)
}

// LanguageBars charts one metric of a report per language, one bar per
// target, and returns the written files.
func (r *Report) LanguageBars(dir, metric string) ([]string, error) {
	var series []Series
	for _, t := range r.Targets {
		vals := make([]float64, len(r.Langs)+1)
		for i, l := range r.Langs {
			vals[i] = t.PerLang[metric][l]
		}
		vals[len(r.Langs)] = t.Macro[metric]
		series = append(series, Series{Name: t.Target, Values: vals})
	}
	name := strings.NewReplacer("@", "_at_", "/", "_").Replace(metric)
	return BarChart(filepath.Join(dir, "per-language-"+name), r.Dataset+" "+metric, metric, append(append([]string{}, r.Langs...), "macro"), series)
}
