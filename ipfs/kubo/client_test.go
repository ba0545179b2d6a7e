package kubo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	carv2 "github.com/ipld/go-car/v2"
)

// fakeAPI answers /api/v0/dag/import with answer (status 200 unless the
// answer starts with a status line "NNN "), after reading the uploaded CAR
// and checking it is one.
func fakeAPI(t *testing.T, answer string, trailer string) (url string, uploaded *int) {
	t.Helper()
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v0/dag/import" || r.URL.Query().Get("pin-roots") != "true" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, err := carv2.NewBlockReader(f); err != nil {
			http.Error(w, "not a CAR: "+err.Error(), http.StatusBadRequest)
			return
		}
		n++
		status := http.StatusOK
		if code, rest, ok := strings.Cut(answer, " "); ok && len(code) == 3 {
			fmt.Sscan(code, &status)
			answer = rest
		}
		if trailer != "" {
			w.Header().Set("Trailer", "X-Stream-Error")
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
		if trailer != "" {
			w.Header().Set("X-Stream-Error", trailer)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestImportChecksKubosAnswer: Push succeeds only when Kubo reports every
// root pinned; pin errors, missing roots and API errors are told apart.
func TestImportChecksKubosAnswer(t *testing.T) {
	s := openStore(t)
	ref, _ := importDoc(t, s)
	other, _ := importDoc(t, s)
	pinned := func(c fmt.Stringer, msg string) string {
		return fmt.Sprintf(`{"Root":{"Cid":{"/":%q},"PinErrorMsg":%q}}`+"\n", c.String(), msg)
	}
	stats := `{"Stats":{"BlockCount":4,"BlockBytesCount":4194304}}` + "\n"
	cases := []struct {
		name, answer, trailer string
		want                  error
	}{
		{"pinned", pinned(ref.Root, "") + stats, "", nil},
		{"pin failed", pinned(ref.Root, "merkledag: not found"), "", ErrNotPinned},
		{"another root pinned", pinned(other.Root, ""), "", ErrNotPinned},
		{"nothing reported", "", "", ErrNotPinned},
		{"API error", `500 {"Message":"car: invalid header","Code":0,"Type":"error"}`, "", ErrAPI},
		{"error mid-stream", pinned(ref.Root, ""), "datastore full", ErrAPI},
		{"garbage answer", "<html>", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, uploads := fakeAPI(t, tc.answer, tc.trailer)
			c, err := NewClient(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Push(context.Background(), s, ref.Root)
			if *uploads != 1 {
				t.Fatalf("%d CARs uploaded, want 1", *uploads)
			}
			switch {
			case tc.name == "garbage answer":
				if err == nil || !strings.Contains(err.Error(), "unreadable answer") {
					t.Fatalf("push: %v, want an unreadable answer", err)
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("push: %v, want %v", err, tc.want)
			}
			var apiErr *APIError
			if tc.want == ErrAPI && (!errors.As(err, &apiErr) || apiErr.Message == "" || apiErr.Endpoint != "dag/import") {
				t.Fatalf("push: %#v, want an *APIError with Kubo's message", err)
			}
		})
	}
}
