package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/hashicorp/vault/api"
)

const (
	backupFormat  = "healthwallet-keystore-backup"
	backupVersion = 1
	// MaxKeystoreSize bounds what Backup accepts; a keystore is well under
	// 1 KiB, and Vault's default request limit is 32 MiB.
	MaxKeystoreSize = 64 << 10
)

// Check-and-set values for [Client.Backup].
const (
	// NoCAS writes a new version whatever the current one is.
	NoCAS = -1
	// CreateOnly writes only if no backup of that name exists yet.
	CreateOnly = 0
)

// age's headers: a binary age file, or one in ASCII armor.
var (
	ageHeader      = []byte("age-encryption.org/v1\n")
	ageArmorHeader = []byte("-----BEGIN AGE ENCRYPTED FILE-----")
)

// looksSealed reports whether b is an age file. Backup refuses anything
// else, so that an unsealed secret cannot be escrowed by mistake.
func looksSealed(b []byte) bool {
	return bytes.HasPrefix(b, ageHeader) || bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), ageArmorHeader)
}

func (c *Client) backupPath(name string) string {
	return c.cfg.Prefix + "/escrow/" + name
}

// Backup escrows a passphrase-sealed keystore file (an age file, opaque
// here) in KV v2 at <prefix>/escrow/<name> and returns the new version.
//
// cas is KV v2's check-and-set: [NoCAS] (-1) always writes, [CreateOnly] (0)
// writes only the first backup, and n > 0 writes only if the current version
// is n. A stale cas fails with [ErrCASConflict] and changes nothing.
func (c *Client) Backup(ctx context.Context, name string, keystore []byte, cas int) (version int, err error) {
	const op = "backup"
	if err := checkName(op, name); err != nil {
		return 0, err
	}
	if len(keystore) == 0 || len(keystore) > MaxKeystoreSize {
		return 0, invalid(op, "a keystore file is 1 byte to %d KiB, not %d bytes", MaxKeystoreSize>>10, len(keystore))
	}
	if !looksSealed(keystore) {
		return 0, invalid(op, "refusing to back up a keystore that is not passphrase-sealed (not an age file)")
	}
	if cas < NoCAS {
		return 0, invalid(op, "invalid check-and-set version %d", cas)
	}
	what := fmt.Sprintf("backup %q", name)
	sum := sha256.Sum256(keystore)
	data := map[string]any{
		"format":   backupFormat,
		"version":  backupVersion,
		"keystore": base64.StdEncoding.EncodeToString(keystore),
		"sha256":   hex.EncodeToString(sum[:]),
		"size":     len(keystore),
	}
	var opts []api.KVOption
	if cas != NoCAS {
		opts = append(opts, api.WithCheckAndSet(cas))
	}
	s, err := c.api.KVv2(c.cfg.Mount).Put(ctx, c.backupPath(name), data, opts...)
	if err != nil {
		e := c.fail(ctx, op, what, err)
		var ve *Error
		if errors.Is(e, ErrCASConflict) && errors.As(e, &ve) {
			cur, cerr := c.currentVersion(ctx, c.backupPath(name))
			switch {
			case cerr != nil:
			case cas == CreateOnly:
				ve.Detail = fmt.Sprintf("%s already exists in vault at %s (version %d): restore or list its versions, then back up against version %d",
					what, c.Addr(), cur, cur)
			default:
				ve.Detail = fmt.Sprintf("%s in vault at %s is at version %d, not %d: someone else backed up meanwhile; restore or list its versions, then retry",
					what, c.Addr(), cur, cas)
			}
		}
		return 0, e
	}
	if s == nil || s.VersionMetadata == nil {
		return 0, &Error{Op: op, Addr: c.Addr(), Err: errors.New("no version in answer"),
			Detail: "vault at " + c.Addr() + " stored the backup but did not say which version"}
	}
	return s.VersionMetadata.Version, nil
}

// Restore fetches an escrowed keystore file: version 0 is the latest. It
// returns the file and its version. The file is still sealed under the
// user's passphrase.
func (c *Client) Restore(ctx context.Context, name string, version int) (keystore []byte, v int, err error) {
	const op = "restore"
	if err := checkName(op, name); err != nil {
		return nil, 0, err
	}
	if version < 0 {
		return nil, 0, invalid(op, "invalid version %d", version)
	}
	what := fmt.Sprintf("backup %q", name)
	if version > 0 {
		what += " version " + strconv.Itoa(version)
	}
	kv := c.api.KVv2(c.cfg.Mount)
	var s *api.KVSecret
	if version == 0 {
		s, err = kv.Get(ctx, c.backupPath(name))
	} else {
		s, err = kv.GetVersion(ctx, c.backupPath(name), version)
	}
	if err != nil {
		return nil, 0, c.fail(ctx, op, what, err)
	}
	if s.VersionMetadata != nil {
		v = s.VersionMetadata.Version
	}
	if s.Data == nil {
		return nil, 0, &Error{Op: op, Addr: c.Addr(), Err: ErrNotFound,
			Detail: fmt.Sprintf("%s was deleted in vault at %s: restore another version (list them first)", what, c.Addr())}
	}
	corrupt := func(why string) error {
		return &Error{Op: op, Addr: c.Addr(), Err: ErrCorrupt,
			Detail: fmt.Sprintf("%s in vault at %s is damaged (%s): restore another version", what, c.Addr(), why)}
	}
	if f, _ := s.Data["format"].(string); f != backupFormat {
		return nil, 0, corrupt("unknown format")
	}
	if fv, _ := intOf(s.Data["version"]); fv != backupVersion {
		return nil, 0, corrupt("unsupported format version")
	}
	ks, err := b64Field(s.Data, "keystore")
	if err != nil || len(ks) == 0 {
		return nil, 0, corrupt("no keystore")
	}
	want, _ := s.Data["sha256"].(string)
	sum := sha256.Sum256(ks)
	if hex.EncodeToString(sum[:]) != want {
		return nil, 0, corrupt("checksum mismatch")
	}
	return ks, v, nil
}

// Versions lists the versions of a backup that can still be restored
// (neither deleted nor destroyed), oldest first.
func (c *Client) Versions(ctx context.Context, name string) ([]int, error) {
	const op = "list versions"
	if err := checkName(op, name); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("backup %q", name)
	list, err := c.api.KVv2(c.cfg.Mount).GetVersionsAsList(ctx, c.backupPath(name))
	if err != nil {
		return nil, c.fail(ctx, op, what, err)
	}
	var out []int
	for _, m := range list {
		if m.Destroyed || !m.DeletionTime.IsZero() {
			continue
		}
		out = append(out, m.Version)
	}
	if len(out) == 0 {
		return nil, &Error{Op: op, Addr: c.Addr(), Err: ErrNotFound,
			Detail: what + " has no restorable version in vault at " + c.Addr()}
	}
	return out, nil
}
