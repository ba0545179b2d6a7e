package identity

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/tyler-smith/go-bip39"
)

// Errors returned by [ParsePhrase]. The returned error is a [*PhraseError]
// that wraps one of them.
var (
	// ErrWordCount means the phrase does not have 12, 15, 18, 21 or 24 words.
	ErrWordCount = errors.New("a recovery phrase has 12, 15, 18, 21 or 24 words")
	// ErrUnknownWord means a word is not in the BIP-39 English word list.
	ErrUnknownWord = errors.New("word is not in the BIP-39 English word list")
	// ErrChecksum means every word is valid but the phrase's checksum is not:
	// usually two words swapped or one word miscopied.
	ErrChecksum = errors.New("recovery phrase checksum does not match; check the order and spelling of the words")
)

// PhraseError describes why a recovery phrase was refused.
type PhraseError struct {
	Err      error  // ErrWordCount, ErrUnknownWord or ErrChecksum
	Word     string // the offending word, for ErrUnknownWord
	Position int    // 1-based position of Word, for ErrUnknownWord
	Count    int    // number of words seen
}

func (e *PhraseError) Error() string {
	switch e.Err {
	case ErrUnknownWord:
		return fmt.Sprintf("word %d %q is not in the BIP-39 English word list", e.Position, e.Word)
	case ErrWordCount:
		return fmt.Sprintf("got %d words; %v", e.Count, ErrWordCount)
	}
	return e.Err.Error()
}

func (e *PhraseError) Unwrap() error { return e.Err }

// Phrase is a validated BIP-39 recovery phrase.
type Phrase struct {
	words []string
}

// NewPhrase returns a fresh 24-word phrase from the operating system's
// random source.
func NewPhrase() (Phrase, error) {
	entropy := make([]byte, 32)
	if _, err := rand.Read(entropy); err != nil {
		return Phrase{}, fmt.Errorf("failed to read randomness: %w", err)
	}
	return PhraseFromEntropy(entropy)
}

// PhraseFromEntropy encodes 16, 20, 24, 28 or 32 bytes of entropy as a phrase.
func PhraseFromEntropy(entropy []byte) (Phrase, error) {
	m, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return Phrase{}, fmt.Errorf("failed to encode entropy: %w", err)
	}
	return Phrase{words: strings.Fields(m)}, nil
}

// ParsePhrase validates words typed or pasted by a person. Case, extra
// spaces and line breaks are forgiven; anything else is a [*PhraseError].
func ParsePhrase(s string) (Phrase, error) {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if _, ok := bip39.GetWordIndex(w); !ok {
			return Phrase{}, &PhraseError{Err: ErrUnknownWord, Word: w, Position: i + 1, Count: len(words)}
		}
	}
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return Phrase{}, &PhraseError{Err: ErrWordCount, Count: len(words)}
	}
	if _, err := bip39.EntropyFromMnemonic(strings.Join(words, " ")); err != nil {
		return Phrase{}, &PhraseError{Err: ErrChecksum, Count: len(words)}
	}
	return Phrase{words: words}, nil
}

// IsWord reports whether w is in the BIP-39 English word list.
func IsWord(w string) bool {
	_, ok := bip39.GetWordIndex(strings.ToLower(strings.TrimSpace(w)))
	return ok
}

// Words returns a copy of the phrase's words in order.
func (p Phrase) Words() []string { return append([]string(nil), p.words...) }

// String returns the words separated by single spaces.
func (p Phrase) String() string { return strings.Join(p.words, " ") }

// IsZero reports whether p is the zero Phrase.
func (p Phrase) IsZero() bool { return len(p.words) == 0 }

// Entropy returns the entropy the phrase encodes.
func (p Phrase) Entropy() ([]byte, error) {
	return bip39.EntropyFromMnemonic(p.String())
}

// Seed returns the 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) for
// the phrase with the given BIP-39 passphrase. healthwallet always uses "".
func (p Phrase) Seed(bip39Passphrase string) []byte {
	return bip39.NewSeed(p.String(), bip39Passphrase)
}
