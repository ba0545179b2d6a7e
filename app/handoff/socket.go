package handoff

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SocketName is the app's socket in the wallet home.
const SocketName = "app.sock"

// MaxRequest bounds a request line, its newline included.
const MaxRequest = len(verbOpen) + MaxLink + 1

// maxReply bounds a reply line.
const maxReply = 512

// exchangeTimeout bounds one exchange on either side: a client that
// connects and says nothing holds the app's listener no longer.
const exchangeTimeout = 5 * time.Second

// maxSocketPath is the longest socket path every supported system binds
// (macOS's sun_path is 104 bytes with its terminating zero; Linux's 108).
const maxSocketPath = 103

const verbOpen = "open "

// Errors of Listen, Send and DecodeRequest.
var (
	// ErrNoApp: no app listens on the wallet home.
	ErrNoApp = errors.New("no Health Wallet app is open on this wallet")
	// ErrListening: another app already listens on the wallet home.
	ErrListening = errors.New("another Health Wallet app is open on this wallet")
	// ErrPathTooLong: the wallet home's path leaves no room for the socket.
	ErrPathTooLong = errors.New("the wallet home's path is too long for the app's socket")
	// ErrProtocol: a line that is not a request or reply of this protocol.
	ErrProtocol = errors.New("not a Health Wallet handoff message")
	// ErrRefused: the app answered with an error.
	ErrRefused = errors.New("the app refused the link")
)

// EncodeRequest is the request line that hands link over.
func EncodeRequest(link string) []byte {
	return []byte(verbOpen + link + "\n")
}

// DecodeRequest reads a request line, its newline included, and returns
// its link in normalized form (see [Normalize]). Errors wrap ErrProtocol,
// or Normalize's errors.
func DecodeRequest(line []byte) (string, error) {
	if len(line) > MaxRequest {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrProtocol, len(line), MaxRequest)
	}
	body, ok := bytes.CutSuffix(line, []byte("\n"))
	if !ok {
		return "", fmt.Errorf("%w: no end of line", ErrProtocol)
	}
	link, ok := bytes.CutPrefix(body, []byte(verbOpen))
	if !ok {
		return "", fmt.Errorf("%w: not an open request", ErrProtocol)
	}
	for _, c := range link {
		if c <= ' ' || c >= 0x7f {
			return "", fmt.Errorf("%w: the link holds a byte 0x%02x", ErrProtocol, c)
		}
	}
	s, _, err := Normalize(string(link))
	return s, err
}

// readLine reads up to and including the first newline of r, at most max
// bytes; a longer line is ErrProtocol.
func readLine(r io.Reader, max int) ([]byte, error) {
	line, err := bufio.NewReader(io.LimitReader(r, int64(max)+1)).ReadBytes('\n')
	switch {
	case len(line) > max:
		return nil, fmt.Errorf("%w: a line over %d bytes", ErrProtocol, max)
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: no end of line", ErrProtocol)
	case err != nil:
		return nil, err
	}
	return line, nil
}

// socketPath is the socket of the app on the wallet in home.
func socketPath(home string) (string, error) {
	path := filepath.Join(home, SocketName)
	if len(path) > maxSocketPath {
		return "", fmt.Errorf("%w (%s)", ErrPathTooLong, path)
	}
	return path, nil
}

// Listener is a running app's end of the socket.
type Listener struct {
	ln      *net.UnixListener
	deliver func(link string)
	wg      sync.WaitGroup
}

// Listen opens the socket in home and calls deliver, one link at a time
// on the listener's goroutine, with every well-formed link handed over;
// the client hears "ok" once deliver returns. deliver must not block for
// long: it is the app's to put the link on screen.
//
// The socket is 0600, in the wallet home (0700): only the wallet's owner
// hands links to the app. A socket left by an app that ended without
// closing it is replaced; one that answers is ErrListening.
func Listen(home string, deliver func(link string)) (*Listener, error) {
	path, err := socketPath(home)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s is in the way: it is not the app's socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, ErrListening
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing the stale socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listening for links: %w", err)
	}
	// Until this chmod the socket has the umask's mode; the wallet home
	// (0700) keeps others out meanwhile.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listening for links: %w", err)
	}
	l := &Listener{ln: ln, deliver: deliver}
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

// Close stops listening, removes the socket and waits for an exchange in
// progress to end.
func (l *Listener) Close() error {
	err := l.ln.Close()
	l.wg.Wait()
	return err
}

func (l *Listener) serve() {
	defer l.wg.Done()
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(50 * time.Millisecond) // e.g. out of descriptors
			continue
		}
		l.exchange(c)
	}
}

// exchange reads one request from c and answers it.
func (l *Listener) exchange(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(exchangeTimeout))
	line, err := readLine(c, MaxRequest)
	var link string
	if err == nil {
		link, err = DecodeRequest(line)
	}
	if err != nil {
		io.WriteString(c, "error "+oneLine(err.Error(), maxReply-8)+"\n")
		return
	}
	l.deliver(link)
	io.WriteString(c, "ok\n")
}

// Send hands link to the app open on the wallet in home. The link is
// checked first (see [Normalize]). ErrNoApp means no app listens: the
// caller may start one with the link.
func Send(ctx context.Context, home, link string) error {
	link, _, err := Normalize(link)
	if err != nil {
		return err
	}
	path, err := socketPath(home)
	if err != nil {
		return err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return ErrNoApp
		}
		return fmt.Errorf("reaching the app: %w", err)
	}
	defer c.Close()
	deadline := time.Now().Add(exchangeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	if _, err := c.Write(EncodeRequest(link)); err != nil {
		return fmt.Errorf("reaching the app: %w", err)
	}
	line, err := readLine(c, maxReply)
	if err != nil {
		return fmt.Errorf("reaching the app: %w", err)
	}
	switch reply := strings.TrimSuffix(string(line), "\n"); {
	case reply == "ok":
		return nil
	case strings.HasPrefix(reply, "error "):
		return fmt.Errorf("%w: %s", ErrRefused, strings.TrimPrefix(reply, "error "))
	}
	return fmt.Errorf("reaching the app: %w", ErrProtocol)
}

// oneLine is s on one line, at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n]
	}
	return s
}
