package wallet

// Match reports whether r passes the filter, with exactly the rules of
// [Wallet.Records]. The app loads the records once and filters them as the
// user types.
func (f Filter) Match(r Record) bool { return f.match(r) }
