package wallet

import (
	"errors"
	"testing"

	"github.com/healthwallet/healthwallet/share/relay"
)

func TestNewRevoker(t *testing.T) {
	r, release, err := NewRevoker(ChainConfig{}, RevokerChoice{})
	if err != nil {
		t.Fatal(err)
	}
	release()
	if c, ok := r.(relay.Client); !ok || c.URL != "http://"+DefaultRelay {
		t.Fatalf("default revoker %#v", r)
	}
	if c, ok := RelayRevoker("https://relay.example/").(relay.Client); !ok || c.URL != "https://relay.example" {
		t.Fatalf("relay revoker %#v", c)
	}
	if _, _, err := NewRevoker(ChainConfig{}, RevokerChoice{Key: "0xnot-a-key"}); !errors.Is(err, ErrBadRevokeKey) {
		t.Fatalf("bad key: %v", err)
	}
}
