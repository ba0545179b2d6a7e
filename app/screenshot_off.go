//go:build !screenshots

package app

// driveForScreenshot is a no-op outside the screenshots build (see
// screenshot.go).
func driveForScreenshot(*UI) {}
