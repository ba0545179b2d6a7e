package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Theme choices (the preference's values).
const (
	themeLight  = "light"
	themeDark   = "dark"
	themeSystem = "system"
)

// themeLabels are the choices as the settings tab shows them.
var themeLabels = map[string]string{themeLight: "Light", themeDark: "Dark", themeSystem: "System"}

// legibleTheme is fyne's default theme with text colours that keep a
// contrast of at least 4.5:1 (WCAG 2.x, level AA) against every background
// they are drawn on, in light and dark variants. Fyne's own grey of
// secondary lines (LowImportance, drawn in the "disabled" colour), its
// placeholder grey, its orange warnings, its red and green, and its blue
// fail that on white; the dark variant's buttons put white on light
// colours. Entry borders get the 3:1 of non-text contrast. Everything
// else is the default theme's; the colours fyne's dark theme shares (its
// disabled grey and entry borders, its dark text on coloured buttons and
// its background) are shared here too, so the app's markup masters, drawn
// in the dark variant, name the same colours.
//
// When fixed, it holds one variant whatever the system says.
type legibleTheme struct {
	fyne.Theme
	fixed   bool
	variant fyne.ThemeVariant
}

// newTheme is the theme of a theme choice.
func newTheme(choice string) legibleTheme {
	th := legibleTheme{Theme: theme.DefaultTheme()}
	switch choice {
	case themeLight:
		th.fixed, th.variant = true, theme.VariantLight
	case themeDark:
		th.fixed, th.variant = true, theme.VariantDark
	}
	return th
}

// Colour values of the legible palette; the names say what they are for.
var (
	legibleLight = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameDisabled:    color.NRGBA{R: 0x5c, G: 0x5c, B: 0x5e, A: 0xff}, // secondary lines
		theme.ColorNamePlaceHolder: color.NRGBA{R: 0x5e, G: 0x5e, B: 0x5e, A: 0xff},
		theme.ColorNameWarning:     color.NRGBA{R: 0x8a, G: 0x4a, B: 0x00, A: 0xff}, // amber
		theme.ColorNameError:       color.NRGBA{R: 0xb7, G: 0x1c, B: 0x1c, A: 0xff}, // red
		theme.ColorNameSuccess:     color.NRGBA{R: 0x1e, G: 0x6b, B: 0x23, A: 0xff}, // green
		theme.ColorNamePrimary:     color.NRGBA{R: 0x15, G: 0x53, B: 0xb6, A: 0xff}, // blue
		theme.ColorNameHyperlink:   color.NRGBA{R: 0x15, G: 0x53, B: 0xb6, A: 0xff},
		// a selected row: light enough for all of the above on it
		theme.ColorNameSelection: color.NRGBA{R: 0x15, G: 0x53, B: 0xb6, A: 0x30},
		// an entry's border: 3:1 against the window (WCAG 1.4.11)
		theme.ColorNameInputBorder:         color.NRGBA{R: 0x85, G: 0x85, B: 0x87, A: 0xff},
		theme.ColorNameForegroundOnPrimary: color.White,
		theme.ColorNameForegroundOnError:   color.White,
		theme.ColorNameForegroundOnWarning: color.White,
		theme.ColorNameForegroundOnSuccess: color.White,
	}
	darkInk     = color.NRGBA{R: 0x17, G: 0x17, B: 0x18, A: 0xff} // the dark background
	legibleDark = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameDisabled:            color.NRGBA{R: 0xa6, G: 0xa6, B: 0xa8, A: 0xff},
		theme.ColorNameInputBorder:         color.NRGBA{R: 0xa6, G: 0xa6, B: 0xa8, A: 0xff}, // as fyne's: the disabled grey
		theme.ColorNamePlaceHolder:         color.NRGBA{R: 0xb2, G: 0xb2, B: 0xb2, A: 0xff},
		theme.ColorNameWarning:             color.NRGBA{R: 0xff, G: 0xb7, B: 0x4d, A: 0xff},
		theme.ColorNameError:               color.NRGBA{R: 0xff, G: 0x8a, B: 0x80, A: 0xff},
		theme.ColorNameSuccess:             color.NRGBA{R: 0x81, G: 0xc7, B: 0x84, A: 0xff},
		theme.ColorNamePrimary:             color.NRGBA{R: 0x8a, G: 0xb4, B: 0xf8, A: 0xff},
		theme.ColorNameHyperlink:           color.NRGBA{R: 0x8a, G: 0xb4, B: 0xf8, A: 0xff},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{R: 0x10, G: 0x10, B: 0x12, A: 0xff},
		theme.ColorNameForegroundOnError:   darkInk,
		theme.ColorNameForegroundOnWarning: darkInk,
		theme.ColorNameForegroundOnSuccess: darkInk,
	}
)

// Color is the legible palette's colour n, or the default theme's.
func (t legibleTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.fixed {
		v = t.variant
	}
	palette := legibleDark
	if v == theme.VariantLight {
		palette = legibleLight
	}
	if c, ok := palette[n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}

// applyTheme switches to a theme choice and remembers it.
func (u *UI) applyTheme(choice string) {
	if choice != themeLight && choice != themeDark {
		choice = themeSystem
	}
	u.app.Preferences().SetString(prefTheme, choice)
	u.app.Settings().SetTheme(newTheme(choice))
}

// A theme change (a choice in settings, or the system's light or dark)
// reaches what the window shows: fyne refreshes every object in its tree.
// The wallet's tabs not on show are not in it, and their lists reuse rows
// that refresh only when their text changes, so a list drawn in the old
// theme kept its old colours (titles left dim after a switch to light).
// themeGen counts the theme changes and shell.themed records the last one
// each tab saw; a tab shown after one it missed has the theme applied again.

// themeChanged is the settings listener: the tab on show has the new theme.
func (u *UI) themeChanged(fyne.Settings) {
	u.themeGen++
	if u.sh != nil && u.screenNow() == "wallet" {
		u.sh.themed[u.tabNow()] = u.themeGen
	}
}

// themeTab applies the theme again when tab, just shown, missed a change.
func (u *UI) themeTab(tab string) {
	if u.sh != nil && u.sh.themed[tab] != u.themeGen {
		u.app.Settings().SetTheme(u.app.Settings().Theme())
	}
}
