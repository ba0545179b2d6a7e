// Package qrimage reads links from QR code images, for the app's and the
// CLI's "redeem from a picture". It decodes in pure Go (a port of ZXing,
// github.com/makiuchi-d/gozxing), so it works where no external program can
// run, on a phone in particular.
//
// PNG, JPEG and GIF images are read. An image is refused before it is
// decoded when its file is larger than [MaxFileSize] or its picture has more
// than [MaxPixels] pixels, so a small file that claims a huge picture costs
// no memory.
package qrimage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the formats Decode reads
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Limits of an image Read and Decode accept.
const (
	// MaxFileSize bounds the bytes of an image file: a phone photo is a
	// few megabytes.
	MaxFileSize = 32 << 20
	// MaxPixels bounds width × height: a 48-megapixel camera's photo.
	MaxPixels = 48_000_000
)

// Errors of Read and Decode.
var (
	// ErrNotImage: the file is not a PNG, JPEG or GIF image.
	ErrNotImage = errors.New("not a PNG, JPEG or GIF image")
	// ErrTooLarge: the file or its picture is over MaxFileSize or MaxPixels.
	ErrTooLarge = errors.New("image too large to read a QR code from")
	// ErrNoCode: the image holds no QR code that can be read.
	ErrNoCode = errors.New("no QR code found")
	// ErrNotALink: the image's QR codes hold none of the links asked for.
	ErrNotALink = errors.New("the QR code is not a Health Wallet link")
)

// Read returns the first text of a QR code in the image at path that
// starts with one of prefixes. Errors name the file by its base name.
func Read(path string, prefixes ...string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), ErrNoCode)
	}
	defer f.Close()
	s, err := Decode(f, prefixes...)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// Decode is Read for an image that is no file of its own (a picked photo
// on a phone arrives as a stream). It reads at most MaxFileSize+1 bytes
// of r.
func Decode(r io.Reader, prefixes ...string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if len(data) > MaxFileSize {
		return "", fmt.Errorf("%w: over %d MB", ErrTooLarge, MaxFileSize>>20)
	}
	texts, err := decodeAll(data)
	if err != nil {
		return "", err
	}
	for _, t := range texts {
		s := strings.TrimSpace(t)
		for _, p := range prefixes {
			if strings.HasPrefix(s, p) {
				return s, nil
			}
		}
	}
	return "", ErrNotALink
}

// decodeAll returns the texts of the QR codes in an encoded image.
func decodeAll(data []byte) ([]string, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, ErrNotImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d pixels", ErrTooLarge, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, ErrNotImage
	}
	texts := scan(img)
	if len(texts) == 0 {
		return nil, ErrNoCode
	}
	return texts, nil
}

// scan finds the QR codes of img: every code the multi-reader sees, else
// the one code the single reader finds, with either binarizer, on the
// picture or on its negative. Links are ASCII; the character set is fixed so that no
// guess can change a text.
func scan(img image.Image) (texts []string) {
	// The decoder is a port of Java code that signals some failures by
	// panicking; a picture it chokes on holds no code we can read.
	defer func() {
		if recover() != nil {
			texts = nil
		}
	}()
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:    true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	}
	// A dark-mode screenshot shows light modules on a dark ground.
	source := gozxing.NewLuminanceSourceFromImage(img)
	binarizers := []func(gozxing.LuminanceSource) gozxing.Binarizer{gozxing.NewHybridBinarizer, gozxing.NewGlobalHistgramBinarizer}
	for _, src := range []gozxing.LuminanceSource{source, source.Invert()} {
		for _, bin := range binarizers {
			bmp, err := gozxing.NewBinaryBitmap(bin(src))
			if err != nil {
				return nil
			}
			results, _ := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
			for _, r := range results {
				texts = append(texts, r.GetText())
			}
			if len(texts) > 0 {
				return texts
			}
			if r, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
				return []string{r.GetText()}
			}
		}
	}
	return nil
}
