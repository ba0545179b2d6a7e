package wallet

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// MinPassphraseLen is the shortest passphrase a new keystore accepts.
const MinPassphraseLen = 8

// ErrWeakPassphrase: the passphrase is too short or one of the most common.
var ErrWeakPassphrase = errors.New("passphrase is too weak")

// Strength grades a passphrase for the strength hint shown while typing.
type Strength int

// Grades, weakest first.
const (
	VeryWeak Strength = iota
	Weak
	Fair
	Strong
	VeryStrong
)

func (s Strength) String() string {
	return [...]string{"very weak", "weak", "fair", "strong", "very strong"}[s]
}

// common holds passwords that top every leaked-password list; they are
// refused outright whatever their length.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password123": true, "passw0rd": true,
	"12345678": true, "123456789": true, "1234567890": true, "qwertyuiop": true,
	"qwerty123": true, "iloveyou": true, "sunshine": true, "princess": true,
	"football": true, "baseball": true, "welcome1": true, "letmein1": true,
	"11111111": true, "00000000": true, "abc12345": true, "trustno1": true,
	"superman": true, "dragon12": true, "monkey123": true, "healthwallet": true,
}

// EstimatePassphrase grades p and returns a one-line hint for the user.
//
// The estimate is deliberately simple and conservative: the bits of a random
// string over the character classes used, discounted by a quarter, halved when few characters are
// distinct, and for phrases of several words capped at about 11 bits a word
// (a random word from a 2048-word list). It is a hint, not a guarantee.
func EstimatePassphrase(p string) (Strength, string) {
	n := len([]rune(p))
	switch {
	case n == 0:
		return VeryWeak, "Choose a passphrase of at least 8 characters, or four or more random words."
	case commonPasswords[strings.ToLower(p)]:
		return VeryWeak, "This is one of the most common passwords; choose something else."
	case n < MinPassphraseLen:
		return VeryWeak, fmt.Sprintf("Too short: use at least %d characters.", MinPassphraseLen)
	}
	bits := estimateBits(p)
	switch {
	case bits < 36:
		return Weak, "Weak: add more words or characters."
	case bits < 60:
		return Fair, "Fair: a phrase of four or more random words is much stronger."
	case bits < 80:
		return Strong, "Strong."
	}
	return VeryStrong, "Very strong."
}

// CheckPassphrase refuses passphrases that [EstimatePassphrase] grades very
// weak: shorter than [MinPassphraseLen] or among the most common.
func CheckPassphrase(p string) error {
	if s, hint := EstimatePassphrase(p); s == VeryWeak {
		return fmt.Errorf("%w: %s", ErrWeakPassphrase, hint)
	}
	return nil
}

func estimateBits(p string) float64 {
	var lower, upper, digit, space, other bool
	distinct := map[rune]bool{}
	for _, r := range p {
		distinct[r] = true
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case unicode.IsSpace(r):
			space = true
		default:
			other = true
		}
	}
	pool := 0
	for _, c := range []struct {
		used bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {space, 1}, {other, 33}} {
		if c.used {
			pool += c.size
		}
	}
	n := len([]rune(p))
	// People do not pick characters at random: count three quarters of the
	// random-string figure.
	bits := 0.75 * float64(n) * math.Log2(float64(pool))
	if len(distinct)*2 < n {
		bits /= 2
	}
	if words := strings.Fields(p); len(words) >= 2 {
		bits = math.Min(bits, 11*float64(len(words))+4)
	}
	return bits
}
