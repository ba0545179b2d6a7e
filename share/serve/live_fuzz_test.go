package serve

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/healthwallet/healthwallet/share/live"
)

// frame is uvarint length ‖ b.
func frame(b []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

// TestReadLiveAnswer: a well-formed answer reads back; an empty, oversize
// or truncated field is one line of error.
func TestReadLiveAnswer(t *testing.T) {
	rec, env := bytes.Repeat([]byte{1}, 300), bytes.Repeat([]byte{2}, 200)
	gotRec, gotEnv, err := readLiveAnswer(bufio.NewReader(bytes.NewReader(append(frame(rec), frame(env)...))), "peer")
	if err != nil || !bytes.Equal(gotRec, rec) || !bytes.Equal(gotEnv, env) {
		t.Fatalf("read %d, %d bytes: %v", len(gotRec), len(gotEnv), err)
	}
	for name, in := range map[string][]byte{
		"empty record":      frame(nil),
		"oversize envelope": append(frame(rec), binary.AppendUvarint(nil, live.MaxEnvelope+1)...),
		"truncated":         append(frame(rec), frame(env)[:50]...),
		"nothing":           nil,
	} {
		if _, _, err := readLiveAnswer(bufio.NewReader(bytes.NewReader(in)), "peer"); err == nil || bytes.ContainsRune([]byte(err.Error()), '\n') {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzReadLiveAnswer: no input panics or allocates past the bounds.
func FuzzReadLiveAnswer(f *testing.F) {
	f.Add(append(frame([]byte("record")), frame([]byte("envelope"))...))
	f.Add(binary.AppendUvarint(nil, 1<<62))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, env, err := readLiveAnswer(bufio.NewReader(bytes.NewReader(in)), "peer")
		if err == nil && (len(rec) == 0 || len(env) == 0 || len(env) > live.MaxEnvelope) {
			t.Fatalf("accepted %d, %d bytes", len(rec), len(env))
		}
	})
}
