package wallet

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/healthwallet/healthwallet/wallet/identity"
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
	if s < VeryWeak || s > VeryStrong {
		return fmt.Sprintf("Strength(%d)", int(s))
	}
	return [...]string{"very weak", "weak", "fair", "strong", "very strong"}[s]
}

// The bits of guessing work each grade starts at (see [EstimatePassphrase]).
// A keystore is sealed with scrypt at about half a second a guess, so 44
// bits (four words of the recovery-word list) cost an attacker holding the
// file tens of thousands of CPU-years; 30 bits cost about one.
const (
	fairBits       = 30
	strongBits     = 44
	veryStrongBits = 60
)

// Word figures of the estimate: a word of the 2048-word BIP-39 list is
// worth log2(2048) = 11 bits, any other run of letters at most what a word
// of an everyday vocabulary of about 8,000 words is worth (13 bits) for
// every 8 letters, and a capital letter in a word adds one bit.
const (
	listWordBits  = 11
	vocabWordBits = 13
	vocabWordLen  = 8
	capitalBits   = 1
	repeatBits    = 1
)

// The advice the hint gives, weakest first.
const (
	adviceEmpty  = "Choose a passphrase of at least 8 characters, or four or more random words."
	adviceCommon = "This is one of the most common passwords; choose something else."
	adviceWeak   = "Weak: add more words or characters."
	adviceFair   = "Fair: a phrase of four or more random words is much stronger."
	adviceStrong = "Strong."
	adviceVery   = "Very strong."
)

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
// The grade follows an estimate of the bits of guessing work p is worth
// (see [PassphraseBits]): under 30 bits weak, under 44 fair, under 60
// strong, and very strong above. Four random words of the recovery-word
// list, what the fair hint advises, are 44 bits: strong. It is a hint, not
// a guarantee; passphrases shorter than [MinPassphraseLen] or among the
// most common are very weak whatever their estimate.
func EstimatePassphrase(p string) (Strength, string) {
	n := len([]rune(p))
	switch {
	case n == 0:
		return VeryWeak, adviceEmpty
	case commonPasswords[strings.ToLower(p)]:
		return VeryWeak, adviceCommon
	case n < MinPassphraseLen:
		return VeryWeak, fmt.Sprintf("Too short: use at least %d characters.", MinPassphraseLen)
	}
	switch bits := PassphraseBits(p); {
	case bits < fairBits:
		return Weak, adviceWeak
	case bits < strongBits:
		return Fair, adviceFair
	case bits < veryStrongBits:
		return Strong, adviceStrong
	}
	return VeryStrong, adviceVery
}

// CheckPassphrase refuses passphrases that [EstimatePassphrase] grades very
// weak: shorter than [MinPassphraseLen] or among the most common.
func CheckPassphrase(p string) error {
	if s, hint := EstimatePassphrase(p); s == VeryWeak {
		return fmt.Errorf("%w: %s", ErrWeakPassphrase, hint)
	}
	return nil
}

// PassphraseBits estimates how many bits of guessing work p is worth,
// conservatively, as an attacker who knows how people choose passphrases
// would count them. p is read as words separated by spaces:
//
//   - a word of the BIP-39 English list (the recovery words) is 11 bits,
//     and so is each list word of a run of letters made of list words
//     ("maplerivers" is not, "mapleriver" is two);
//   - any other run of letters is a word of an everyday vocabulary: 13 bits
//     for every 8 letters, or less when it is short;
//   - other characters count as a random string over the classes they use
//     (lower case 26, upper case 26, digits 10, symbols 33), discounted by
//     a quarter because people do not pick characters at random, and
//     halved when fewer than half of them are distinct;
//   - a capital letter in a word adds a bit, a word repeated adds one bit.
//
// The total never exceeds what p would be worth as a random string of its
// length over the classes it uses.
func PassphraseBits(p string) float64 {
	seen := map[string]bool{}
	total := 0.0
	for _, tok := range strings.Fields(p) {
		if seen[tok] {
			total += repeatBits
			continue
		}
		seen[tok] = true
		total += tokenBits(tok)
	}
	return math.Min(total, float64(len([]rune(p)))*math.Log2(float64(classPool(p))))
}

// tokenBits is the estimate of one word of a passphrase.
func tokenBits(tok string) float64 {
	runs := letterRuns(tok)
	if len(runs) == 1 && runs[0] == tok { // letters only
		if k := listWords(strings.ToLower(tok)); k > 0 {
			return float64(k*listWordBits) + caseBits(tok)
		}
		n := len([]rune(tok))
		vocab := float64(vocabWordBits * ((n + vocabWordLen - 1) / vocabWordLen))
		return math.Min(randomBits(tok), vocab) + caseBits(tok)
	}
	// Letters among other characters: list words count as words, the
	// rest as a random string.
	bits, rest := 0.0, tok
	for _, r := range runs {
		if k := listWords(strings.ToLower(r)); k > 0 {
			bits += float64(k*listWordBits) + caseBits(r)
			rest = strings.Replace(rest, r, "", 1)
		}
	}
	return bits + randomBits(rest)
}

// randomBits is s counted as a random string over the character classes it
// uses, discounted by a quarter, halved when few characters are distinct.
func randomBits(s string) float64 {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	distinct := map[rune]bool{}
	for _, r := range s {
		distinct[r] = true
	}
	bits := 0.75 * float64(n) * math.Log2(float64(classPool(s)))
	if len(distinct)*2 < n {
		bits /= 2
	}
	return bits
}

// classPool is the size of the alphabet of the character classes s uses.
func classPool(s string) int {
	var lower, upper, digit, space, other bool
	for _, r := range s {
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
	return max(pool, 2)
}

// caseBits is what the capitals of a word add.
func caseBits(w string) float64 {
	if strings.ToLower(w) != w {
		return capitalBits
	}
	return 0
}

// letterRuns are the maximal runs of letters in s.
func letterRuns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}

// listWords is how many BIP-39 words s (lower case) is made of, or 0 when
// it is not made of them alone. BIP-39 words are 3 to 8 letters long.
func listWords(s string) int {
	if len(s) > 8*8 {
		return 0 // no such passphrase word; bounds the search below
	}
	// best[i] is the fewest list words s[:i] splits into (0: none).
	best := make([]int, len(s)+1)
	for i := 1; i <= len(s); i++ {
		for j := max(0, i-8); j <= i-3; j++ {
			if (j == 0 || best[j] > 0) && identity.IsWord(s[j:i]) {
				if k := best[j] + 1; best[i] == 0 || k < best[i] {
					best[i] = k
				}
			}
		}
	}
	return best[len(s)]
}
