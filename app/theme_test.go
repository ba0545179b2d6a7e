package app

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/testclock"
)

// relativeLuminance is WCAG 2.x's relative luminance of an opaque c.
func relativeLuminance(c color.Color) float64 {
	r, g, b, _ := toNRGBA(c)
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func toNRGBA(c color.Color) (r, g, b, a float64) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return float64(n.R) / 255, float64(n.G) / 255, float64(n.B) / 255, float64(n.A) / 255
}

// contrast is the WCAG 2.x contrast ratio of text colour fg over bg.
func contrast(fg, bg color.Color) float64 {
	l1, l2 := relativeLuminance(fg), relativeLuminance(bg)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// minContrast is WCAG 2.x level AA for body text.
const minContrast = 4.5

// textColours are the theme colours text is drawn in: labels of every
// importance (LowImportance is "disabled"), placeholders and links.
var textColours = []fyne.ThemeColorName{
	theme.ColorNameForeground, theme.ColorNameDisabled, theme.ColorNamePlaceHolder,
	theme.ColorNameWarning, theme.ColorNameError, theme.ColorNameSuccess,
	theme.ColorNamePrimary, theme.ColorNameHyperlink,
}

// textBackgrounds are what text is drawn on: windows, entries, cards and
// headers, menus and dialogs, and a hovered or selected list row.
var textBackgrounds = []fyne.ThemeColorName{
	theme.ColorNameBackground, theme.ColorNameInputBackground, theme.ColorNameHeaderBackground,
	theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground,
	theme.ColorNameHover, theme.ColorNameSelection,
}

// onFill pairs the text of a coloured button with its fill.
var onFill = [][2]fyne.ThemeColorName{
	{theme.ColorNameForeground, theme.ColorNameButton},
	{theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary},
	{theme.ColorNameForegroundOnError, theme.ColorNameError},
	{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning},
	{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess},
}

// contrastFailures lists every text colour of th in variant v whose
// contrast with a background it is drawn on is under minContrast.
// Translucent backgrounds (hover, selection) are laid over the window's.
func contrastFailures(th fyne.Theme, v fyne.ThemeVariant) []string {
	var out []string
	window := th.Color(theme.ColorNameBackground, v)
	opaque := func(n fyne.ThemeColorName) color.Color {
		r, g, b, a := toNRGBA(th.Color(n, v))
		wr, wg, wb, _ := toNRGBA(window)
		mix := func(c, w float64) uint8 { return uint8(math.Round(255 * (c*a + w*(1-a)))) }
		return color.NRGBA{R: mix(r, wr), G: mix(g, wg), B: mix(b, wb), A: 255}
	}
	check := func(fg, bg fyne.ThemeColorName) {
		if r := contrast(th.Color(fg, v), opaque(bg)); r < minContrast {
			out = append(out, fmt.Sprintf("%s on %s %.2f:1", fg, bg, r))
		}
	}
	for _, fg := range textColours {
		for _, bg := range textBackgrounds {
			check(fg, bg)
		}
	}
	for _, p := range onFill {
		check(p[0], p[1])
	}
	// An entry's border is not text: WCAG 1.4.11 asks 3:1.
	if r := contrast(th.Color(theme.ColorNameInputBorder, v), window); r < 3 {
		out = append(out, fmt.Sprintf("inputBorder on background %.2f:1", r))
	}
	return out
}

func TestContrast(t *testing.T) {
	variants := map[string]fyne.ThemeVariant{"light": theme.VariantLight, "dark": theme.VariantDark}
	for name, v := range variants {
		if bad := contrastFailures(newTheme(themeSystem), v); len(bad) > 0 {
			t.Errorf("%s theme: text under %.1f:1:\n  %s", name, minContrast, strings.Join(bad, "\n  "))
		}
		if bad := contrastFailures(newTheme(name), v); len(bad) > 0 {
			t.Errorf("fixed %s theme: text under %.1f:1:\n  %s", name, minContrast, strings.Join(bad, "\n  "))
		}
	}
	// The check is the one that finds fyne's default theme wanting: its
	// grey secondary lines and its orange warnings on white.
	bad := strings.Join(contrastFailures(theme.DefaultTheme(), theme.VariantLight), "\n")
	for _, want := range []string{"disabled on background", "warning on background", "placeholder on inputBackground"} {
		if !strings.Contains(bad, want) {
			t.Errorf("fyne's default light theme passes %q; its failures:\n%s", want, bad)
		}
	}
	// Known ratios, so the formula itself is checked: black on white is
	// 21:1, and #767676 on white is the 4.54:1 of the usual AA grey.
	if r := contrast(color.Black, color.White); math.Abs(r-21) > 1e-9 {
		t.Errorf("black on white %.4f:1", r)
	}
	if r := contrast(color.NRGBA{R: 0x76, G: 0x76, B: 0x76, A: 0xff}, color.White); math.Abs(r-4.54) > 0.01 {
		t.Errorf("#767676 on white %.4f:1", r)
	}
}

// TestThemeSwitchReachesHiddenTabs: a theme chosen on the settings tab
// reaches the record list, drawn before in the old theme: the theme is
// applied again when the tab is shown, and its titles have the new theme's
// colours (they stayed dim).
func TestThemeSwitchReachesHiddenTabs(t *testing.T) {
	u := openTestWallet(t, Options{Now: testclock.Frozen})
	importFixture(t, u, "Liz_Conn")
	tapTab(t, u, tabRecords)
	tapTab(t, u, tabSettings)
	u.settings.theme.SetSelected("Dark")
	gen := u.themeGen
	tapTab(t, u, tabRecords)
	// The theme is applied again to the tab, now in the window's tree: in
	// the GL driver that is what redraws text whose colour changed while
	// it was hidden (its painted texture is cached); the test driver has
	// no such cache, so the colours below would pass without it.
	if u.themeGen == gen || u.sh.themed[tabRecords] != u.themeGen {
		t.Fatalf("records shown without the theme applied again (changes %d → %d, records saw %d)", gen, u.themeGen, u.sh.themed[tabRecords])
	}
	th := u.app.Settings().Theme()
	v := u.app.Settings().ThemeVariant()
	rows := 0
	walk(u.win.Canvas().Content(), func(o fyne.CanvasObject) {
		r, ok := o.(*recordRow)
		if !ok {
			return
		}
		rows++
		for _, l := range []struct {
			label *widget.Label
			want  fyne.ThemeColorName
		}{{r.summary, theme.ColorNameForeground}, {r.meta, theme.ColorNameDisabled}} {
			walk(l.label, func(o fyne.CanvasObject) {
				if txt, ok := o.(*canvas.Text); ok && txt.Text != "" && !sameColour(txt.Color, th.Color(l.want, v)) {
					t.Errorf("row text %q drawn in %v, want the dark theme's %s %v", txt.Text, txt.Color, l.want, th.Color(l.want, v))
				}
			})
		}
	})
	if rows == 0 {
		t.Fatal("no record rows on show")
	}
}
