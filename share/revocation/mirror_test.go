package revocation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/share/registry"
)

// fakeChain is a programmable chain: block i has hashes[i] and events[i].
type fakeChain struct {
	mu          sync.Mutex
	hashes      []common.Hash
	events      [][]registry.Event
	down        bool
	batchDown   bool
	hashDown    bool // BlockHash fails, but not with "not found"
	eventsCalls int
}

func (f *fakeChain) addBlock(fork byte, evs ...[32]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := uint64(len(f.hashes))
	h := common.Hash{byte(n), fork, 0xaa}
	var out []registry.Event
	for _, id := range evs {
		out = append(out, registry.Event{ID: id, At: 1000 + n, Block: n, BlockHash: h})
	}
	f.hashes = append(f.hashes, h)
	f.events = append(f.events, out)
}

// reorg drops the last n blocks.
func (f *fakeChain) reorg(n int) {
	f.mu.Lock()
	f.hashes = f.hashes[:len(f.hashes)-n]
	f.events = f.events[:len(f.events)-n]
	f.mu.Unlock()
}

var errDown = errors.New("connection refused")

func (f *fakeChain) HeadNumber(context.Context) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return 0, errDown
	}
	return uint64(len(f.hashes) - 1), nil
}

func (f *fakeChain) BlockHash(_ context.Context, n uint64) (common.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.hashDown {
		return common.Hash{}, errDown
	}
	if n >= uint64(len(f.hashes)) {
		return common.Hash{}, fmt.Errorf("block %d: %w", n, ErrBlockNotFound)
	}
	return f.hashes[n], nil
}

func (f *fakeChain) Events(_ context.Context, from, to uint64) ([]registry.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventsCalls++
	if f.down {
		return nil, errDown
	}
	var out []registry.Event
	for n := from; n <= to && n < uint64(len(f.events)); n++ {
		out = append(out, f.events[n]...)
	}
	return out, nil
}

func (f *fakeChain) RevokedAtBatch(_ context.Context, ids [][32]byte) ([]uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down || f.batchDown {
		return nil, errDown
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		for _, evs := range f.events {
			for _, e := range evs {
				if e.ID == id && out[i] == 0 {
					out[i] = e.At
				}
			}
		}
	}
	return out, nil
}

var (
	idA = [32]byte{0xa}
	idB = [32]byte{0xb}
	idC = [32]byte{0xc}
	reg = common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, path string, f *fakeChain, c *clock) *Mirror {
	t.Helper()
	m, err := Open(path, f, 1337, reg, Config{Depth: 8, Now: c.now, ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func revoked(t *testing.T, m *Mirror, ids ...[32]byte) []uint64 {
	t.Helper()
	at, err := m.RevokedAt(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestSyncAndReorg(t *testing.T) {
	f := &fakeChain{}
	c := &clock{time.Unix(1795000000, 0)}
	for i := range 10 {
		switch i {
		case 4:
			f.addBlock(0, idA)
		default:
			f.addBlock(0)
		}
	}
	path := filepath.Join(t.TempDir(), "revocations.db")
	m := open(t, path, f, c)
	if at := revoked(t, m, idA, idB); at[0] != 1004 || at[1] != 0 {
		t.Fatalf("after first sync: %v", at)
	}
	// Incremental: a new block with idB; the next answer sees it.
	f.addBlock(0, idB)
	before := f.eventsCalls
	if at := revoked(t, m, idB); at[0] != 1010 {
		t.Fatalf("new revocation not seen: %v", at)
	}
	if f.eventsCalls-before != 1 {
		t.Fatalf("incremental sync asked for logs %d times, want 1", f.eventsCalls-before)
	}
	// Reorg of the last 3 blocks: idB's block is replaced by one revoking idC.
	f.reorg(3)
	f.addBlock(1)
	f.addBlock(1, idC)
	f.addBlock(1)
	f.addBlock(1)
	if at := revoked(t, m, idA, idB, idC); at[0] != 1004 || at[1] != 0 || at[2] != 1009 {
		t.Fatalf("after reorg: %v", at)
	}
	// Persisted: a reopened mirror answers while the chain is down.
	m.Close()
	f.down = true
	m = open(t, path, f, c)
	if at := revoked(t, m, idA, idC); at[0] != 1004 || at[1] != 1009 {
		t.Fatalf("reopened while chain down: %v", at)
	}
}

func TestDeepReorgRescans(t *testing.T) {
	f := &fakeChain{}
	c := &clock{time.Unix(1795000000, 0)}
	for range 20 {
		f.addBlock(0)
	}
	f.events[15] = []registry.Event{{ID: idA, At: 1015, Block: 15}}
	m := open(t, filepath.Join(t.TempDir(), "r.db"), f, c)
	if at := revoked(t, m, idA); at[0] != 1015 {
		t.Fatalf("%v", at)
	}
	// Replace 12 blocks (deeper than Depth = 8): idA disappears, idB appears.
	f.reorg(12)
	for i := range 12 {
		if i == 5 {
			f.addBlock(2, idB)
		} else {
			f.addBlock(2)
		}
	}
	if at := revoked(t, m, idA, idB); at[0] != 0 || at[1] == 0 {
		t.Fatalf("after deep reorg: %v", at)
	}
}

func TestFreshnessPolicy(t *testing.T) {
	f := &fakeChain{}
	for range 3 {
		f.addBlock(0, idA)
	}
	c := &clock{time.Unix(1795000000, 0)}
	m := open(t, filepath.Join(t.TempDir(), "r.db"), f, c)
	revoked(t, m, idA)

	// Chain down, mirror 4 minutes old: authoritative.
	f.down = true
	c.t = c.t.Add(4 * time.Minute)
	if at := revoked(t, m, idA); at[0] == 0 {
		t.Fatal("fresh mirror did not answer")
	}
	// Logs down but revokedAtBatch up, mirror 6 minutes old: the fallback.
	c.t = c.t.Add(2 * time.Minute)
	f.down = false
	f.addBlock(0, idB) // a new block, so a sync must query logs (which fail)
	m.src = downLogs{f}
	if at := revoked(t, m, idA); at[0] == 0 {
		t.Fatal("fallback to revokedAtBatch did not answer")
	}
	// Everything down, mirror stale: refuse, saying why.
	f.down = true
	_, err := m.RevokedAt(context.Background(), [][32]byte{idA})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "last synced 6m0s ago") {
		t.Fatalf("stale and unreachable: %v", err)
	}
	// A mirror that never synced and cannot reach the chain refuses too.
	m2 := open(t, filepath.Join(t.TempDir(), "r2.db"), f, c)
	if _, err := m2.RevokedAt(context.Background(), [][32]byte{idA}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("never synced: %v", err)
	}
}

// downLogs fails log queries but not revokedAtBatch.
type downLogs struct{ *fakeChain }

func (d downLogs) Events(context.Context, uint64, uint64) ([]registry.Event, error) {
	return nil, errDown
}

func TestIdentityChangeResets(t *testing.T) {
	f := &fakeChain{}
	f.addBlock(0, idA)
	c := &clock{time.Unix(1795000000, 0)}
	path := filepath.Join(t.TempDir(), "r.db")
	m := open(t, path, f, c)
	revoked(t, m, idA)
	m.Close()
	other, err := Open(path, f, 1, reg, Config{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if st, err := other.Status(); err != nil || st.Events != 0 || !st.SyncedAt.IsZero() {
		t.Fatalf("mirror of another chain kept %+v (%v)", st, err)
	}
}

func status(t *testing.T, m *Mirror) Status {
	t.Helper()
	st, err := m.Status()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// chainWith returns a chain of n blocks, idA revoked in block at.
func chainWith(n, at int) *fakeChain {
	f := &fakeChain{}
	for i := range n {
		if i == at {
			f.addBlock(0, idA)
		} else {
			f.addBlock(0)
		}
	}
	return f
}

// A BlockHash that fails for any reason but "not found" is no reorg: the
// sync aborts, and the mirror keeps its events and its sync point.
func TestFlakyBlockHashIsNoReorg(t *testing.T) {
	f := chainWith(10, 8)
	c := &clock{time.Unix(1795000000, 0)}
	m := open(t, filepath.Join(t.TempDir(), "r.db"), f, c)
	revoked(t, m, idA)
	before := status(t, m)

	f.addBlock(0)
	f.hashDown = true
	c.t = c.t.Add(time.Minute)
	if err := m.Sync(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("sync with failing block queries: %v, want ErrUnreachable", err)
	}
	if at := revoked(t, m, idA); at[0] != 1008 {
		t.Fatalf("flaky RPC wiped the mirror: idA revoked at %d, want 1008", at[0])
	}
	if after := status(t, m); after != before {
		t.Fatalf("flaky RPC changed the mirror: %+v, was %+v", after, before)
	}
}

// A confirmed reorg that rolls the mirror back, or resets it, takes away its
// freshness: if the rescan then fails, the registry answers (or nobody), not
// a mirror that has just forgotten events.
func TestRollbackAndResetClearFreshness(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reorg int // blocks replaced; Depth is 8
	}{
		{"rollback", 3},
		{"reset", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := chainWith(20, 18)
			c := &clock{time.Unix(1795000000, 0)}
			m := open(t, filepath.Join(t.TempDir(), "r.db"), f, c)
			revoked(t, m, idA)
			// The new branch revokes idA too, and so does the registry; the
			// log queries fail, so only the registry can say so.
			f.reorg(tc.reorg)
			for len(f.hashes) < 21 {
				f.addBlock(3)
			}
			f.events[19] = []registry.Event{{ID: idA, At: 1019, Block: 19}}
			m.src = downLogs{f}
			if err := m.Sync(context.Background()); !errors.Is(err, ErrUnreachable) {
				t.Fatalf("sync: %v", err)
			}
			if st := status(t, m); !st.SyncedAt.IsZero() {
				t.Fatalf("mirror still fresh after %s: %+v", tc.name, st)
			}
			if at := revoked(t, m, idA); at[0] != 1019 {
				t.Fatalf("idA revoked at %d after %s, want 1019 (from the registry)", at[0], tc.name)
			}
			// And with the registry down too: a refusal, never "not revoked".
			f.batchDown = true
			if at, err := m.RevokedAt(context.Background(), [][32]byte{idA}); !errors.Is(err, ErrUnreachable) {
				t.Fatalf("after %s with the registry down: %v, %v; want ErrUnreachable", tc.name, at, err)
			}
		})
	}
}

// lagging is a backend behind the mirror: its head is lower, and it has no
// blocks above it.
type lagging struct {
	*fakeChain
	head uint64
}

func (l lagging) HeadNumber(context.Context) (uint64, error) { return l.head, nil }

func (l lagging) BlockHash(ctx context.Context, n uint64) (common.Hash, error) {
	if n > l.head {
		return common.Hash{}, ErrBlockNotFound
	}
	return l.fakeChain.BlockHash(ctx, n)
}

func (l lagging) Events(ctx context.Context, from, to uint64) ([]registry.Event, error) {
	return l.fakeChain.Events(ctx, from, min(to, l.head))
}

// A head below the mirror's (a lagging backend) never rewinds the mirror.
func TestLowerHeadNeverRewinds(t *testing.T) {
	f := chainWith(10, 8)
	c := &clock{time.Unix(1795000000, 0)}
	m := open(t, filepath.Join(t.TempDir(), "r.db"), f, c)
	revoked(t, m, idA)
	before := status(t, m)

	m.src = lagging{f, 6}
	c.t = c.t.Add(time.Minute)
	if err := m.Sync(context.Background()); !errors.Is(err, ErrBehind) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("sync against a lagging head: %v, want ErrBehind", err)
	}
	if at := revoked(t, m, idA); at[0] != 1008 {
		t.Fatalf("lagging head rewound the mirror: idA revoked at %d, want 1008", at[0])
	}
	if after := status(t, m); after != before {
		t.Fatalf("lagging head changed the mirror: %+v, was %+v", after, before)
	}
}

// A mirror file that cannot be read is an error, never "nothing revoked".
func TestUnreadableMirrorIsAnError(t *testing.T) {
	f := chainWith(4, 2)
	c := &clock{time.Unix(1795000000, 0)}
	path := filepath.Join(t.TempDir(), "r.db")
	m := open(t, path, f, c)
	revoked(t, m, idA)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Status(); err == nil {
		t.Fatal("Status of a missing file: no error")
	}
	if _, err := m.local([][32]byte{idA}); err == nil {
		t.Fatal("local of a missing file: no error")
	}
	if _, err := m.rewind(context.Background(), 3); err == nil {
		t.Fatal("rewind of a missing file: no error")
	}
	if at, err := m.RevokedAt(context.Background(), [][32]byte{idA}); err == nil {
		t.Fatalf("RevokedAt of a missing file answered %v", at)
	}
}

// A sync that finds no new block writes syncedAt at most once a second (a
// serving node syncs every 500 ms); a new block, or a later second, is
// written at once.
func TestIdleSyncWritesSyncedAtOncePerSecond(t *testing.T) {
	f := chainWith(5, 2)
	c := &clock{time.Unix(1795000000, 0)}
	m := open(t, filepath.Join(t.TempDir(), "m.db"), f, c)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := status(t, m).SyncedAt
	c.t = c.t.Add(300 * time.Millisecond)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := status(t, m).SyncedAt; !got.Equal(first) {
		t.Fatalf("idle sync 300 ms later rewrote syncedAt: %v, was %v", got, first)
	}
	f.addBlock(0)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := status(t, m).SyncedAt; !got.Equal(c.t) {
		t.Fatalf("sync with a new block: syncedAt %v, want %v", got, c.t)
	}
	c.t = c.t.Add(2 * time.Second)
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := status(t, m).SyncedAt; !got.Equal(c.t) {
		t.Fatalf("idle sync 2 s later: syncedAt %v, want %v", got, c.t)
	}
}
