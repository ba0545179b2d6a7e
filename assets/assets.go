// Package assets holds healthwallet's bundled resources as plain bytes, so
// that packages other than app need not import fyne to carry them.
package assets

import _ "embed"

// Icon is the 512×512 PNG app icon (also named in FyneApp.toml).
//
//go:embed icon.png
var Icon []byte
