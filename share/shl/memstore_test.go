package shl

import (
	"context"
	"fmt"
	"sync"
)

// MemStore is an in-memory [Store] for tests. Attempts is the allowance of
// wrong passcodes per link (DefaultAttempts when 0); set it before use.
type MemStore struct {
	Attempts int

	mu      sync.Mutex
	entries map[string]Entry
	failed  map[string]int
	events  []AccessEvent
}

// Put adds or replaces a link.
func (m *MemStore) Put(e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]Entry{}
	}
	m.entries[e.ID] = e
}

// Entry implements [Store].
func (m *MemStore) Entry(_ context.Context, id string) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	if !ok {
		return Entry{}, fmt.Errorf("shl: link %.8s…: %w", id, ErrUnknown)
	}
	return e, nil
}

func (m *MemStore) allowance() int {
	if m.Attempts <= 0 {
		return DefaultAttempts
	}
	return m.Attempts
}

// PasscodeFailed implements [Store].
func (m *MemStore) PasscodeFailed(_ context.Context, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[string]int{}
	}
	if m.failed[id] < m.allowance() {
		m.failed[id]++
	}
	return m.allowance() - m.failed[id], nil
}

// PasscodeRemaining implements [Store].
func (m *MemStore) PasscodeRemaining(_ context.Context, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.allowance() - m.failed[id], nil
}

// Access implements [Store].
func (m *MemStore) Access(_ context.Context, ev AccessEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
}

// Events returns a copy of the access log so far.
func (m *MemStore) Events() []AccessEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]AccessEvent(nil), m.events...)
}

// MemRevocations is an in-memory [Revocations] for tests. Err, when set,
// is returned by every check (the server then fails closed).
type MemRevocations struct {
	mu      sync.Mutex
	revoked map[[32]byte]bool
	Err     error
}

// Revoke marks id revoked.
func (r *MemRevocations) Revoke(id [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.revoked == nil {
		r.revoked = map[[32]byte]bool{}
	}
	r.revoked[id] = true
}

// SetErr makes every later check fail with err (nil restores).
func (r *MemRevocations) SetErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Err = err
}

// Revoked implements [Revocations].
func (r *MemRevocations) Revoked(_ context.Context, id [32]byte) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return false, r.Err
	}
	return r.revoked[id], nil
}

// NewMemStore returns an empty store with DefaultAttempts.
func NewMemStore() *MemStore { return &MemStore{Attempts: DefaultAttempts} }
