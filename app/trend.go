package app

import (
	"image/color"
	"math"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// trendPlot draws the results of one test over time: a line through the
// values, oldest on the left, over a band for the reference range; the
// lowest and highest values and the first and last dates are written on
// the axes. Points outside the range are drawn in the error colour.
type trendPlot struct {
	widget.BaseWidget
	line fhir.TrendLine
}

func newTrendPlot(t fhir.TrendLine) *trendPlot {
	p := &trendPlot{line: t}
	p.ExtendBaseWidget(p)
	return p
}

func (p *trendPlot) MinSize() fyne.Size { return fyne.NewSize(240, 160) }

func (p *trendPlot) CreateRenderer() fyne.WidgetRenderer {
	r := &trendRenderer{p: p}
	th := p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.band = canvas.NewRectangle(withAlpha(th.Color(theme.ColorNameSuccess, v), 0x40))
	r.frame = canvas.NewRectangle(color.Transparent)
	r.frame.StrokeColor = th.Color(theme.ColorNameSeparator, v)
	r.frame.StrokeWidth = 1
	text := func(s string) *canvas.Text {
		t := canvas.NewText(s, th.Color(theme.ColorNameForeground, v))
		t.TextSize = th.Size(theme.SizeNameCaptionText)
		return t
	}
	lo, hi := p.bounds()
	r.hiLabel, r.loLabel = text(number(hi)), text(number(lo))
	if n := len(p.line.Points); n > 0 {
		r.firstDate = text(fhir.HumanDate(day(p.line.Points[0].Date)))
		r.lastDate = text(fhir.HumanDate(day(p.line.Points[n-1].Date)))
	} else {
		r.firstDate, r.lastDate = text(""), text("")
	}
	for i := range p.line.Points {
		if i > 0 {
			l := canvas.NewLine(th.Color(theme.ColorNamePrimary, v))
			l.StrokeWidth = 2
			r.lines = append(r.lines, l)
		}
		c := canvas.NewCircle(th.Color(theme.ColorNamePrimary, v))
		if p.line.HasRange && p.line.Range.Flag(p.line.Points[i].Value) != "" {
			c.FillColor = th.Color(theme.ColorNameError, v)
		}
		r.dots = append(r.dots, c)
	}
	return r
}

// bounds is the value range the plot shows: every point and the
// reference range, with a margin.
func (p *trendPlot) bounds() (lo, hi float64) {
	first := true
	take := func(v float64) {
		if first {
			lo, hi, first = v, v, false
			return
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	for _, pt := range p.line.Points {
		take(pt.Value)
	}
	if p.line.HasRange {
		if p.line.Range.Low != nil {
			take(*p.line.Range.Low)
		}
		if p.line.Range.High != nil {
			take(*p.line.Range.High)
		}
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	m := (hi - lo) * 0.1
	return lo - m, hi + m
}

type trendRenderer struct {
	p                                     *trendPlot
	band, frame                           *canvas.Rectangle
	hiLabel, loLabel, firstDate, lastDate *canvas.Text
	lines                                 []*canvas.Line
	dots                                  []*canvas.Circle
}

func (r *trendRenderer) Layout(size fyne.Size) {
	pad := theme.Padding()
	labelW := max(r.hiLabel.MinSize().Width, r.loLabel.MinSize().Width) + pad
	dateH := r.firstDate.MinSize().Height
	left, top := labelW, pad
	w, h := size.Width-left-pad, size.Height-top-dateH-pad
	r.frame.Move(fyne.NewPos(left, top))
	r.frame.Resize(fyne.NewSize(w, h))
	lo, hi := r.p.bounds()
	y := func(v float64) float32 { return top + h - float32((v-lo)/(hi-lo))*h }
	pts := r.p.line.Points
	const dot = 7
	x := func(i int) float32 { // inset by a dot, so the first and last are whole
		if len(pts) == 1 {
			return left + w/2
		}
		return left + dot + float32(i)*(w-2*dot)/float32(len(pts)-1)
	}
	r.band.Hide()
	if rg := r.p.line.Range; r.p.line.HasRange {
		y0, y1 := top, top+h
		if rg.High != nil {
			y0 = y(*rg.High)
		}
		if rg.Low != nil {
			y1 = y(*rg.Low)
		}
		r.band.Move(fyne.NewPos(left, y0))
		r.band.Resize(fyne.NewSize(w, y1-y0))
		r.band.Show()
	}
	for _, t := range []*canvas.Text{r.hiLabel, r.loLabel, r.firstDate, r.lastDate} {
		t.Resize(t.MinSize())
	}
	r.hiLabel.Move(fyne.NewPos(0, top))
	r.loLabel.Move(fyne.NewPos(0, top+h-r.loLabel.MinSize().Height))
	r.firstDate.Move(fyne.NewPos(left, top+h))
	r.lastDate.Move(fyne.NewPos(left+w-r.lastDate.MinSize().Width, top+h))
	for i, pt := range pts {
		px, py := x(i), y(pt.Value)
		r.dots[i].Move(fyne.NewPos(px-dot/2, py-dot/2))
		r.dots[i].Resize(fyne.NewSquareSize(dot))
		if i > 0 {
			r.lines[i-1].Position1 = fyne.NewPos(x(i-1), y(pts[i-1].Value))
			r.lines[i-1].Position2 = fyne.NewPos(px, py)
		}
	}
}

func (r *trendRenderer) MinSize() fyne.Size { return r.p.MinSize() }

func (r *trendRenderer) Refresh() { r.Layout(r.p.Size()) }

func (r *trendRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.band, r.frame, r.hiLabel, r.loLabel, r.firstDate, r.lastDate}
	for _, l := range r.lines {
		objs = append(objs, l)
	}
	for _, d := range r.dots {
		objs = append(objs, d)
	}
	return objs
}

func (r *trendRenderer) Destroy() {}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// number writes an axis value with at most two decimals.
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
