// Package posixlocale stops Fyne from logging a locale error on machines
// whose locale is the POSIX one with an encoding, such as Debian's default
// LANG=C.UTF-8.
//
// fyne's lang package parses the language part of LC_ALL / LC_MESSAGES /
// LANG as a BCP 47 tag during package initialisation; "C" is not one, and the
// resulting three-line log would break the CLI's one-line-error contract.
// Importing this package first (it depends only on the standard library, so
// Go initialises it before fyne's locale code) replaces such values with
// "C", which the locale library recognises and maps to English.
package posixlocale

import (
	"os"
	"strings"
)

func init() { Normalize() }

// Normalize rewrites LC_ALL, LC_MESSAGES and LANG values such as "C.UTF-8"
// or "POSIX.utf8" to plain "C". It is idempotent.
func Normalize() {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(k)
		lang, _, _ := strings.Cut(v, ".")
		if v != "C" && (lang == "C" || lang == "POSIX") {
			os.Setenv(k, "C")
		}
	}
}
