package qrimage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
)

// body is n characters of base64url, the same on every run: the body of a
// link as the wallet writes one.
func body(seed string, n int) string {
	var b []byte
	h := sha256.Sum256([]byte(seed))
	for len(b)*4/3 < n+4 {
		b = append(b, h[:]...)
		h = sha256.Sum256(h[:])
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// links are the kinds of link the wallet puts in QR codes, up to the
// longest it puts in one.
var links = map[string]string{
	"grant":      grant.LinkPrefix + body("grant", 600),
	"long grant": grant.LinkPrefix + body("long", grant.MaxQRLink-len(grant.LinkPrefix)),
	"bundle":     grant.BundlePrefix + body("bundle", 180),
	"shlink":     "shlink:/" + body("shl", 240),
	"viewer":     "https://viewer.example.org/#shlink:/" + body("viewer", 240),
}

var prefixes = []string{grant.LinkPrefix, grant.BundlePrefix, "shlink:/", "https://"}

// ownQR is the PNG QR code the wallet makes of link.
func ownQR(t testing.TB, link string) []byte {
	t.Helper()
	b, err := grant.QR(link)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestReadsOwnQRCodes: every kind of link the wallet makes comes back from
// its QR code exactly, from a file and from a stream.
func TestReadsOwnQRCodes(t *testing.T) {
	for name, link := range links {
		t.Run(name, func(t *testing.T) {
			code := ownQR(t, link)
			got, err := qrimage.Read(writeFile(t, "code.png", code), prefixes...)
			if err != nil || got != link {
				t.Fatalf("Read = %.60q, %v; want %.60q", got, err, link)
			}
			got, err = qrimage.Decode(bytes.NewReader(code), prefixes...)
			if err != nil || got != link {
				t.Fatalf("Decode = %.60q, %v", got, err)
			}
		})
	}
}

// screenshot draws img at half size (nearest neighbour) in the middle of a
// larger canvas of ground, inverted when dark: a QR code as a screenshot
// of the app shows it.
func screenshot(img image.Image, dark bool) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx()/2, b.Dy()/2
	out := image.NewRGBA(image.Rect(0, 0, w+240, h+160))
	ground := color.RGBA{0xf4, 0xf4, 0xf4, 0xff}
	if dark {
		ground = color.RGBA{0x14, 0x14, 0x18, 0xff}
	}
	draw.Draw(out, out.Bounds(), image.NewUniform(ground), image.Point{}, draw.Src)
	for y := range h {
		for x := range w {
			r, _, _, _ := img.At(b.Min.X+2*x, b.Min.Y+2*y).RGBA()
			v := uint8(r >> 8)
			if dark {
				v = 0xff - v
			}
			out.Set(120+x, 80+y, color.RGBA{v, v, v, 0xff})
		}
	}
	return out
}

// TestReadsPictures: a QR code scaled down on a screenshot, saved as JPEG
// or GIF, and on a dark ground, reads back exactly.
func TestReadsPictures(t *testing.T) {
	link := links["grant"]
	img := decodePNG(t, ownQR(t, link))
	var jpg, gf, darkPNG bytes.Buffer
	must(t, jpeg.Encode(&jpg, screenshot(img, false), &jpeg.Options{Quality: 80}))
	must(t, gif.Encode(&gf, screenshot(img, false), nil))
	must(t, png.Encode(&darkPNG, screenshot(img, true)))
	for name, data := range map[string][]byte{"shot.jpg": jpg.Bytes(), "shot.gif": gf.Bytes(), "dark.png": darkPNG.Bytes()} {
		got, err := qrimage.Read(writeFile(t, name, data), grant.LinkPrefix)
		if err != nil || got != link {
			t.Errorf("%s: Read = %.60q, %v", name, got, err)
		}
	}
}

// TestPrefixChoosesTheCode: of two codes side by side, the one whose text
// starts with a prefix asked for is returned.
func TestPrefixChoosesTheCode(t *testing.T) {
	menu := decodePNG(t, ownQR(t, "https://example.org/menu-of-the-day"))
	shl := decodePNG(t, ownQR(t, links["shlink"]))
	mb, sb := menu.Bounds(), shl.Bounds()
	both := image.NewRGBA(image.Rect(0, 0, mb.Dx()+sb.Dx()+40, max(mb.Dy(), sb.Dy())+40))
	draw.Draw(both, both.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(both, mb.Add(image.Pt(20, 20)), menu, mb.Min, draw.Src)
	draw.Draw(both, sb.Add(image.Pt(20+mb.Dx(), 20)), shl, sb.Min, draw.Src)
	var b bytes.Buffer
	must(t, png.Encode(&b, both))
	for _, p := range [][]string{{"shlink:/"}, {grant.LinkPrefix, "shlink:/"}} {
		if got, err := qrimage.Decode(bytes.NewReader(b.Bytes()), p...); err != nil || got != links["shlink"] {
			t.Errorf("prefixes %q: %.60q, %v", p, got, err)
		}
	}
	if got, err := qrimage.Decode(bytes.NewReader(b.Bytes()), "https://example.org/"); err != nil || got != "https://example.org/menu-of-the-day" {
		t.Errorf("menu: %q, %v", got, err)
	}
}

func TestNotALink(t *testing.T) {
	path := writeFile(t, "menu.png", ownQR(t, "https://example.org/menu-of-the-day"))
	if _, err := qrimage.Read(path, grant.LinkPrefix); !errors.Is(err, qrimage.ErrNotALink) || err.Error() != "menu.png: "+qrimage.ErrNotALink.Error() {
		t.Fatalf("err = %v", err)
	}
}

func TestNoCode(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
	var b bytes.Buffer
	must(t, png.Encode(&b, blank))
	if _, err := qrimage.Read(writeFile(t, "blank.png", b.Bytes()), grant.LinkPrefix); !errors.Is(err, qrimage.ErrNoCode) || !strings.HasPrefix(err.Error(), "blank.png: ") {
		t.Fatalf("blank: %v", err)
	}
	if _, err := qrimage.Read(filepath.Join(t.TempDir(), "missing.png"), grant.LinkPrefix); !errors.Is(err, qrimage.ErrNoCode) || !strings.HasPrefix(err.Error(), "missing.png: ") {
		t.Fatalf("missing: %v", err)
	}
}

func TestNotImage(t *testing.T) {
	path := writeFile(t, "notes.png", []byte("healthwallet:grant/AAAA is not a picture"))
	if _, err := qrimage.Read(path, grant.LinkPrefix); !errors.Is(err, qrimage.ErrNotImage) || !strings.HasPrefix(err.Error(), "notes.png: ") {
		t.Fatalf("err = %v", err)
	}
}

// hugePNG is a valid PNG header (and one tiny data chunk) that claims a
// width × height picture.
func hugePNG(t *testing.T, width, height uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))))
	data := b.Bytes()
	// The IHDR chunk follows the 8-byte signature: length, type, then
	// width and height, and its CRC over type and data.
	binary.BigEndian.PutUint32(data[16:], width)
	binary.BigEndian.PutUint32(data[20:], height)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// TestTooLarge: a small file claiming a huge picture is refused before it
// is decoded, as is a file over the size bound.
func TestTooLarge(t *testing.T) {
	if _, err := qrimage.Decode(bytes.NewReader(hugePNG(t, 1, 1)), grant.LinkPrefix); !errors.Is(err, qrimage.ErrNoCode) {
		t.Fatalf("the 1×1 picture: %v", err) // the header surgery is sound
	}
	if _, err := qrimage.Decode(bytes.NewReader(hugePNG(t, 50000, 50000)), grant.LinkPrefix); !errors.Is(err, qrimage.ErrTooLarge) {
		t.Fatalf("50000×50000: %v", err)
	}
	big := io.MultiReader(bytes.NewReader(ownQR(t, links["grant"])), io.LimitReader(zeros{}, qrimage.MaxFileSize))
	if _, err := qrimage.Decode(big, grant.LinkPrefix); !errors.Is(err, qrimage.ErrTooLarge) {
		t.Fatalf("a file over MaxFileSize: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestZbarAgrees: zbarimg (zbar-tools), an independent reader, reads the
// same text from the wallet's QR codes. CI installs it; elsewhere the
// cross-check is skipped.
func TestZbarAgrees(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg not installed; .ci/run installs zbar-tools")
		}
		t.Skip("zbarimg not installed")
	}
	for name, link := range links {
		path := writeFile(t, "code.png", ownQR(t, link))
		out, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
		if err != nil {
			t.Fatalf("%s: zbarimg: %v", name, err)
		}
		ours, err := qrimage.Read(path, prefixes...)
		if err != nil || ours != strings.TrimSpace(string(out)) {
			t.Errorf("%s: we read %.60q (%v), zbarimg %.60q", name, ours, err, out)
		}
	}
}

// FuzzDecode: no input makes Decode panic, and what it returns starts
// with a prefix asked for.
func FuzzDecode(f *testing.F) {
	f.Add(ownQR(f, "healthwallet:grant/AAAAAAAA"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := qrimage.Decode(bytes.NewReader(data), "healthwallet:")
		if err == nil && !strings.HasPrefix(s, "healthwallet:") {
			t.Fatalf("Decode = %q without its prefix", s)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
