package wallet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/shc"
)

// SHCContentType is the content type of SMART Health Card files in a SMART
// Health Link.
const SHCContentType = "application/smart-health-card"

// OpenSHLOptions tune OpenSHL.
type OpenSHLOptions struct {
	// Out, if set, is a directory the decrypted files are written to
	// (plaintext: the user's own export).
	Out string
	// Import imports the files into this wallet: FHIR Bundles as records,
	// SMART Health Cards once verified.
	Import bool
	// HTTP is the client that fetches the manifest and files (nil: the
	// default client; tests pass one trusting a test CA).
	HTTP *http.Client
	// Recipient is who opens the link, as the keeper's access log shows it
	// (default "healthwallet").
	Recipient string
}

// SHLOpened is what OpenSHL got.
type SHLOpened struct {
	Label string         `json:"label,omitempty"`
	Files []SHLFileInfo  `json:"files"`
	Cards SHLCardsResult `json:"cards"`
	// Imported counts the records imported (added or updated).
	Imported int `json:"imported"`
}

// SHLCardsResult counts the SMART Health Cards found in a link's files.
type SHLCardsResult struct {
	Verified   int `json:"verified"`
	Unverified int `json:"unverified"`
}

// SHLFileInfo is one decrypted file of a link.
type SHLFileInfo struct {
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	// Resources counts a FHIR Bundle's resources.
	Resources int `json:"resources,omitempty"`
	// Cards are the verification results of a SMART Health Card file's
	// cards, one per card ("verified", or why not).
	Cards []string `json:"cards,omitempty"`
	// Path is where the file was written (Out).
	Path string `json:"path,omitempty"`
	// Plain is the decrypted file.
	Plain []byte `json:"-"`
}

// ReadSHLQR reads a SMART Health Link from a QR code image (bare, or a
// viewer URL holding #shlink:/).
func ReadSHLQR(path string) (string, error) {
	return qrimage.Read(path, shlQRPrefixes...)
}

// DecodeSHLQR is ReadSHLQR for a picture that is no file of its own.
func DecodeSHLQR(r io.Reader) (string, error) {
	return qrimage.Decode(r, shlQRPrefixes...)
}

// shlQRPrefixes are the texts a SMART Health Link's QR code starts with:
// the bare link or a viewer URL.
var shlQRPrefixes = []string{"shlink:/", "http://", "https://"}

// OpenSHL opens a SMART Health Link, as any SHL viewer does: it parses the
// link (a shlink:/ text, a viewer URL, or a QR code image's path), POSTs
// the manifest request with the passcode, fetches and decrypts every file.
// A FHIR Bundle is counted (and imported with Import); a SMART Health Card
// file's cards are each verified against the trust directory (verified
// cards imported with Import, marked as ImportSHC does). Errors of the
// server are shl's: *shl.PasscodeError (wrong passcode: attempts left;
// ErrLocked at 0), shl.ErrUnknown/ErrRevoked/ErrExpired for a link revoked
// or expired.
func (w *Wallet) OpenSHL(ctx context.Context, link, passcode string, opts OpenSHLOptions) (SHLOpened, error) {
	link = strings.TrimSpace(link)
	if !strings.Contains(link, "shlink:/") {
		if st, err := os.Stat(link); err == nil && !st.IsDir() {
			if link, err = ReadSHLQR(link); err != nil {
				return SHLOpened{}, err
			}
		}
	}
	p, err := shl.ParseLink(link)
	if err != nil {
		return SHLOpened{}, err
	}
	if p.Expired(w.now()) {
		return SHLOpened{}, shl.ErrExpired
	}
	if p.Has('P') && passcode == "" {
		return SHLOpened{}, ErrPasscodeNeeded
	}
	recipient := opts.Recipient
	if recipient == "" {
		recipient = "healthwallet"
	}
	client := &shl.Client{HTTP: opts.HTTP, Recipient: recipient, Now: w.now}
	files, err := client.Open(ctx, p, passcode)
	if err != nil {
		return SHLOpened{}, err
	}
	out := SHLOpened{Label: p.Label}
	if opts.Out != "" {
		if err := os.MkdirAll(opts.Out, 0o700); err != nil {
			return out, err
		}
	}
	var problems []error
	for i, f := range files {
		info := SHLFileInfo{ContentType: f.ContentType, Size: len(f.Plain), Plain: f.Plain}
		name := fmt.Sprintf("shl-file-%d", i+1)
		ext := ".json"
		switch mediaType(f.ContentType) {
		case SHLContentType, "application/json":
			doc, err := fhir.Parse(f.Plain)
			if err != nil {
				problems = append(problems, fmt.Errorf("file %d: %w", i+1, err))
				break
			}
			info.Resources = len(doc.Resources)
			if opts.Import {
				res, err := w.ImportFHIR(ctx, name+ext, f.Plain)
				if err != nil {
					return out, fmt.Errorf("file %d: %w", i+1, err)
				}
				out.Imported += res.Added + res.Updated
			}
		case SHCContentType:
			ext = ".smart-health-card"
			if err := w.checkSHLCards(ctx, name+ext, f.Plain, opts.Import, &info, &out); err != nil {
				problems = append(problems, fmt.Errorf("file %d: %w", i+1, err))
			}
		default:
			ext = ".bin"
		}
		if opts.Out != "" {
			path, err := filepath.Abs(filepath.Join(opts.Out, name+ext))
			if err != nil {
				return out, err
			}
			if err := atomicfile.WriteFile(path, f.Plain, 0o600); err != nil {
				return out, err
			}
			info.Path = path
		}
		out.Files = append(out.Files, info)
	}
	return out, errors.Join(problems...)
}

// checkSHLCards verifies every card of a SMART Health Card file against
// the trust directory, and imports the file when asked (ImportSHC imports
// the verified cards only).
func (w *Wallet) checkSHLCards(ctx context.Context, name string, data []byte, doImport bool, info *SHLFileInfo, out *SHLOpened) error {
	jwss, err := shc.Decode(data)
	if err != nil {
		return err
	}
	trust, terr := w.trust()
	now := w.now().UTC()
	for _, jws := range jwss {
		if terr != nil {
			out.Cards.Unverified++
			info.Cards = append(info.Cards, terr.Error())
			continue
		}
		if _, err := shc.Verify(jws, trust, now); err != nil {
			out.Cards.Unverified++
			info.Cards = append(info.Cards, err.Error())
			continue
		}
		out.Cards.Verified++
		info.Cards = append(info.Cards, "verified")
	}
	if doImport && out.Cards.Verified > 0 {
		res, err := w.ImportSHC(ctx, name, data)
		out.Imported += res.Added + res.Updated
		if err != nil && res.Added+res.Updated == 0 {
			return err
		}
	}
	return nil
}

// mediaType is a content type's media type, lower case, without
// parameters.
func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
