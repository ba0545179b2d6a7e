package cli

import (
	"github.com/healthwallet/healthwallet/wallet"
)

// refusal is a share, a SMART Health Link or a live version that could not
// be opened, worded by wallet.Explain. It prints as one line: the sentence
// a person understands, then "details:" and the technical reason, so a
// script can still grep the reason ("grant revoked") while a person reads
// the sentence first:
//
//	healthwallet: Darron withdrew this share on 1 Dec 2026; ask for a new one. details: grant revoked: at 2026-12-01T09:30:00Z
type refusal struct {
	err error
	exp wallet.Explanation
}

func (r *refusal) Error() string { return r.exp.Sentence + " details: " + r.exp.Details }

// Unwrap keeps errors.Is working on the reason.
func (r *refusal) Unwrap() error { return r.err }

// refused words err with the wallet's contact names (a stranger is "the
// person who shared it"). A nil err stays nil.
func refused(w *wallet.Wallet, err error) error {
	if err == nil {
		return nil
	}
	var names wallet.Names
	if w != nil {
		names, _ = w.ContactNames() // without names the sentence says "the person who shared it"
	}
	return &refusal{err: err, exp: wallet.Explain(err, names.Of)}
}
