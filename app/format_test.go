package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/revocation"
	"github.com/healthwallet/healthwallet/wallet"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "12h": 12 * time.Hour, "3d": 72 * time.Hour, " 2W ": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-3h", "soon", "3 fortnights", "d"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}

func TestGranteeDID(t *testing.T) {
	const did = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
	for _, in := range []string{did, "  " + did + "\n", "https://clinic.example/#" + did, "my DID is " + did + "#key-1, thanks"} {
		if got, err := granteeDID(in); err != nil || got != did {
			t.Errorf("granteeDID(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := granteeDID("dr-ruiz"); !errors.Is(err, errNoGrantee) {
		t.Errorf("no DID: %v", err)
	}
	if _, err := granteeDID("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"); err == nil {
		t.Error("an Ed25519 did:key accepted as a grantee")
	}
}

func TestUntilAndStatus(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	g := wallet.GrantRecord{NotBefore: now.Add(-6 * 24 * time.Hour), ExpiresAt: now.Add(20 * time.Hour)}
	if st := g.Status(now); st != "expiring soon" || statusImportance(st) != widget.WarningImportance {
		t.Fatalf("status %q importance %v", st, statusImportance(st))
	}
	mustContain(t, "until", untilText(g, now), "(20 hours left)")
	g.ExpiresAt = now.Add(-time.Hour)
	mustContain(t, "until", untilText(g, now), "expired ")
	g.RevokedAt = now.Add(-2 * time.Hour)
	mustContain(t, "until", untilText(g, now), "revoked ")
}

func TestTexts(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Second: "1 minute", 45 * time.Minute: "45 minutes", 23 * time.Hour: "23 hours", 7 * 24 * time.Hour: "7 days"} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q", d, got)
		}
	}
	for n, want := range map[int64]string{12: "12 bytes", 2048: "2.0 KB", 5 << 20: "5.0 MB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q", n, got)
		}
	}
	if got := previewText(3, 1); got != "3 records will be shared, with your patient record. 1 sensitive record left out." {
		t.Errorf("previewText = %q", got)
	}
	if got := oneLine("card 1 of 2: bad\ncard 2 of 2:  worse"); got != "card 1 of 2: bad; card 2 of 2: worse" {
		t.Errorf("oneLine = %q", got)
	}
	if got := userMessage(fmt.Errorf("liz.json: %w", wallet.ErrUnsupportedFile)); !strings.HasPrefix(got, "liz.json: unsupported") {
		t.Errorf("a file name was capitalised: %q", got)
	}
}

func TestMirrorText(t *testing.T) {
	now := time.Now()
	st := wallet.ChainStatus{MaxAge: 5 * time.Minute}
	if _, s := mirrorText(st, now); !strings.Contains(s, "not synced yet") {
		t.Error(s)
	}
	st.Mirror = revocation.Status{SyncedAt: now.Add(-time.Minute), SyncedBlock: 42, Events: 1}
	if _, s := mirrorText(st, now); !strings.Contains(s, "fresh, synced to block 42 1 minute ago (1 revocation)") {
		t.Error(s)
	}
	st.Mirror.SyncedAt = now.Add(-time.Hour)
	if _, s := mirrorText(st, now); !strings.Contains(s, "stale, last synced 60 minutes ago") {
		t.Error(s)
	}
}

// TestUserMessages: the messages of errors a user can act on read once,
// say what to do in the app's terms, and name no command or flag.
func TestUserMessages(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("%w: %s", wallet.ErrExists, "/data/w"): "A wallet already exists in /data/w; nothing was changed.",
		wallet.ErrExists: "A wallet already exists here; nothing was changed.",
		fmt.Errorf("%w (no %s)", wallet.ErrNoChain, "/cfg/devnet.json"): "No chain is configured. Start Health Wallet with HW_CHAIN_RPC and HW_REGISTRY set, or with a local devnet running, then unlock again.",
		wallet.ErrVaultHeld:     "This wallet's key is held in HashiCorp Vault, not sealed under a passphrase; this app unlocks only passphrase-sealed wallets.",
		wallet.ErrGrantDuration: "A grant lasts between 1 minute and 366 days.",
	} {
		got := userMessage(err)
		if got != want {
			t.Errorf("userMessage(%q)\n got %q\nwant %q", err, got, want)
		}
		if strings.Contains(got, "healthwallet ") || strings.Contains(got, "--") {
			t.Errorf("userMessage(%q) names a command or flag: %q", err, got)
		}
	}
}
