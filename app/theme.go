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

// fixedVariant is the default theme held to one variant, for users who
// want light or dark whatever the system says.
type fixedVariant struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (f fixedVariant) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return f.Theme.Color(n, f.variant)
}

// applyTheme switches to a theme choice and remembers it.
func (u *UI) applyTheme(choice string) {
	var th fyne.Theme = theme.DefaultTheme()
	switch choice {
	case themeLight:
		th = fixedVariant{theme.DefaultTheme(), theme.VariantLight}
	case themeDark:
		th = fixedVariant{theme.DefaultTheme(), theme.VariantDark}
	default:
		choice = themeSystem
	}
	u.app.Preferences().SetString(prefTheme, choice)
	u.app.Settings().SetTheme(th)
}
