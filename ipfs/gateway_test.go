package ipfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
)

func TestTrustlessGateway(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	ref, _ := s.Import(ctx, bytes.NewReader(pattern(2*ChunkSize)), 2*ChunkSize, nil)
	g, err := StartGateway(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	get := func(path, accept string) (int, []byte) {
		req, _ := http.NewRequest("GET", g.URL()+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	code, raw := get("/ipfs/"+ref.Root.String()+"?format=raw", "")
	if code != 200 {
		t.Fatalf("raw: %d %s", code, raw)
	}
	blk, _ := s.blocks.Get(ctx, ref.Root)
	if !bytes.Equal(raw, blk.RawData()) {
		t.Fatal("raw response differs from the stored block")
	}

	code, car := get("/ipfs/"+ref.Root.String(), "application/vnd.ipld.car")
	if code != 200 {
		t.Fatalf("car: %d", code)
	}
	other, _ := openTestStore(t)
	roots, err := other.ImportCAR(ctx, bytes.NewReader(car))
	if err != nil || len(roots) != 1 || roots[0] != ref.Root {
		t.Fatalf("gateway CAR: %v %v", roots, err)
	}
	if _, err := exportBytes(t, other, ref); err != nil {
		t.Fatalf("object from gateway CAR: %v", err)
	}

	if code, _ := get("/ipfs/"+ref.Root.String(), ""); code == 200 {
		t.Fatal("gateway served a deserialized response")
	}
}

// TestGatewayListensOnLoopbackOnly: the gateway has no grant gate, so an
// address reachable from other machines is refused.
func TestGatewayListensOnLoopbackOnly(t *testing.T) {
	s, _ := openTestStore(t)
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.org:0"} {
		g, err := StartGateway(s, addr)
		if !errors.Is(err, ErrGatewayNotLoopback) {
			if g != nil {
				g.Close()
			}
			t.Fatalf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		g, err := StartGateway(s, addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		g.Close()
	}
}
