package app

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// openRecorder is a test app that records the URLs it is asked to open.
type openRecorder struct {
	fyne.App
	opened []*url.URL
}

func (a *openRecorder) OpenURL(u *url.URL) error {
	a.opened = append(a.opened, u)
	return nil
}

// docResource is a DocumentReference carrying data inline, as a share
// delivers it.
func docResource(t *testing.T, title, ctype string, data []byte) fhir.Resource {
	t.Helper()
	sum := sha1.Sum(data)
	js := `{"resourceType":"DocumentReference","id":"d-` + title + `","status":"current","content":[{"attachment":{` +
		`"contentType":"` + ctype + `","title":"` + title + `","size":` + strconv.Itoa(len(data)) +
		`,"hash":"` + base64.StdEncoding.EncodeToString(sum[:]) + `","data":"` + base64.StdEncoding.EncodeToString(data) + `"}}]}`
	r, err := fhir.ParseResource([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// findAll walks the containers of a canvas object tree (not inside
// widgets).
func findAll(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, x := range c.Objects {
			findAll(x, visit)
		}
	}
}

func buttonsOf(o fyne.CanvasObject) map[string]*widget.Button {
	out := map[string]*widget.Button{}
	findAll(o, func(x fyne.CanvasObject) {
		if b, ok := x.(*widget.Button); ok {
			out[b.Text] = b
		}
	})
	return out
}

// TestDocumentViewShowsSharedFiles: a shared image is drawn inline, a PDF
// opens in the system viewer from a private copy that the wallet removes
// when the session ends; "Save as…" only with export; a record without a
// file shows nothing and a corrupted file says so.
func TestDocumentViewShowsSharedFiles(t *testing.T) {
	rec := &openRecorder{App: test.NewApp()}
	u := &UI{app: rec, win: test.NewWindow(nil)}
	defer u.win.Close()
	u.session, u.endSessionCtx = context.WithCancel(context.Background())

	img := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.NRGBA{R: 200, A: 255})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	photo := docResource(t, "rash.png", "image/png", pngBuf.Bytes())
	v := u.documentView(photo, nil, true)
	var images []*canvas.Image
	findAll(v, func(x fyne.CanvasObject) {
		if i, ok := x.(*canvas.Image); ok && i.Resource != nil && bytes.Equal(i.Resource.Content(), pngBuf.Bytes()) {
			images = append(images, i)
		}
	})
	if len(images) != 1 || images[0].FillMode != canvas.ImageFillContain {
		t.Fatalf("image document: %d images of the file", len(images))
	}
	if bs := buttonsOf(v); bs["Save as…"] == nil || bs["Open in PDF viewer"] != nil {
		t.Fatalf("image document buttons %v", bs)
	}

	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("discharge letter body "), 200)...)
	letter := docResource(t, "letter.pdf", "application/pdf", pdf)
	v = u.documentView(letter, nil, false)
	bs := buttonsOf(v)
	if bs["Save as…"] != nil || bs["Open in PDF viewer"] == nil {
		t.Fatalf("view-only PDF buttons %v", bs)
	}
	test.Tap(bs["Open in PDF viewer"])
	if len(rec.opened) != 1 || rec.opened[0].Scheme != "file" {
		t.Fatalf("opened %v", rec.opened)
	}
	path := filepath.FromSlash(rec.opened[0].Path)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, pdf) || filepath.Base(path) != "letter.pdf" {
		t.Fatalf("viewer copy %s: %d bytes, %v", path, len(got), err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("viewer directory mode %v, %v", st.Mode(), err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("viewer copy mode %v, %v", st.Mode(), err)
	}
	u.endSession() // locking removes the copy
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Dir(path)); os.IsNotExist(err) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("the viewer copy outlived the session: %v", err)
	}

	obs, err := fhir.ParseResource([]byte(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"Glucose"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := u.documentView(obs, nil, true); v != nil {
		t.Fatalf("an Observation got a document view: %T", v)
	}
	bad := docResource(t, "letter.pdf", "application/pdf", pdf)
	bad.Body.Get("content").([]any)[0].(*fhir.Object).Get("attachment").(*fhir.Object).Set("size", 3)
	var texts []string
	findAll(u.documentView(bad, nil, true), func(x fyne.CanvasObject) {
		if l, ok := x.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	})
	if len(texts) != 1 || !strings.Contains(texts[0], "does not match") {
		t.Fatalf("a corrupted document shows %q", texts)
	}
}

// TestStaleViewerCopiesRemoved: a viewer copy left by a run that quit is
// removed by the next opening, a fresh one is not.
func TestStaleViewerCopiesRemoved(t *testing.T) {
	tmp := t.TempDir()
	old, err := writeViewerCopy(tmp, docFile("old.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := writeViewerCopy(tmp, docFile("../../fresh"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(filepath.Dir(fresh)) != tmp || filepath.Base(fresh) != "fresh.pdf" {
		t.Fatalf("a title with a path escapes its directory: %s", fresh)
	}
	stamp := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // a file time, not the clock
	if err := os.Chtimes(filepath.Dir(old), stamp, stamp); err != nil {
		t.Fatal(err)
	}
	removeStaleViewerCopies(tmp, viewerGrace)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("stale copy kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh copy removed: %v", err)
	}
}

func docFile(title string) wallet.DocumentFile {
	return wallet.DocumentFile{Title: title, ContentType: "application/pdf", Data: []byte("%PDF-1.4 a viewer test file")}
}
