package netlab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// probeEnv carries a probe's command into a re-executed test binary, which
// TestMain turns into the probe instead of running the tests. The test
// binary is the one program sure to be at hand in every namespace.
const probeEnv = "HW_NETLAB_PROBE"

func TestMain(m *testing.M) {
	if p := os.Getenv(probeEnv); p != "" {
		os.Exit(probeMain(strings.Fields(p)))
	}
	code := m.Run()
	removeBuilt()
	os.Exit(code)
}

// probeMain runs one probe:
//
//	listen tcp|udp ADDR       print "listening ADDR", then "got PROTO PEERIP PAYLOAD" for each
//	                          line (TCP) or datagram (UDP) received, answering "echo PAYLOAD"
//	dial tcp|udp ADDR PAYLOAD TIMEOUT
//	                          send PAYLOAD, wait for its echo; print one line: ok, timeout,
//	                          refused, unreachable or "error ..."
//	forward ADDR TARGET       print "listening ADDR", then relay each TCP connection to TARGET
//
// A listener or forwarder ends when its stdin closes, so it cannot outlive
// the test even if a kill goes astray.
func probeMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "probe: bad arguments", args)
		return 2
	}
	switch {
	case args[0] == "listen" && len(args) == 3:
		go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		return probeListen(args[1], args[2])
	case args[0] == "dial" && len(args) == 5:
		d, err := time.ParseDuration(args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 2
		}
		fmt.Println(probeDial(args[1], args[2], args[3], d))
		return 0
	case args[0] == "forward" && len(args) == 3:
		go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		return probeForward(args[1], args[2])
	}
	fmt.Fprintln(os.Stderr, "probe: bad arguments", args)
	return 2
}

var printMu sync.Mutex

func say(format string, a ...any) {
	printMu.Lock()
	defer printMu.Unlock()
	fmt.Printf(format+"\n", a...)
}

func probeListen(proto, addr string) int {
	switch proto {
	case "tcp":
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
		say("listening %s", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				return 1
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				payload := strings.TrimSpace(line)
				say("got tcp %s %s", c.RemoteAddr().(*net.TCPAddr).IP, payload)
				fmt.Fprintf(c, "echo %s\n", payload)
			}()
		}
	case "udp":
		pc, err := net.ListenPacket("udp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return 1
		}
		say("listening %s", pc.LocalAddr())
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return 1
			}
			payload := strings.TrimSpace(string(buf[:n]))
			say("got udp %s %s", from.(*net.UDPAddr).IP, payload)
			pc.WriteTo([]byte("echo "+payload), from)
		}
	}
	fmt.Fprintln(os.Stderr, "probe: protocol", proto)
	return 2
}

// probeDial sends payload to addr and waits up to timeout for its echo.
func probeDial(proto, addr, payload string, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout(proto+"4", addr, timeout)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	c.SetDeadline(deadline)
	msg := payload
	if proto == "tcp" {
		msg += "\n"
	}
	if _, err := c.Write([]byte(msg)); err != nil {
		return classify(err)
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return classify(err)
	}
	if got := strings.TrimSpace(string(buf[:n])); got != "echo "+payload {
		return "error wrong reply " + got
	}
	return "ok"
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	}
	return "error " + err.Error()
}

// probeForward relays TCP connections on addr to target: it lets a host of
// the lab reach a service that listens on another host's loopback only
// (`healthwallet devnet` serves JSON-RPC on 127.0.0.1).
func probeForward(addr, target string) int {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		return 1
	}
	say("listening %s", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer u.Close()
			go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
			io.Copy(c, u)
		}()
	}
}

// listener is a probe listening inside the lab.
type listener struct {
	Addr string // host:port it listens on

	mu    sync.Mutex
	lines []string
}

// startProbe runs a listen or forward probe inside host and waits for its
// address. The probe is stopped (stdin closed, killed, reaped) when the
// test ends.
func startProbe(t *testing.T, lab *Lab, host string, args ...string) *listener {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := lab.Command(host, self)
	cmd.Env = append(cmd.Env, probeEnv+"="+strings.Join(args, " "))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	l := &listener{}
	ready := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening "); ok {
				ready <- a
				continue
			}
			l.mu.Lock()
			l.lines = append(l.lines, line)
			l.mu.Unlock()
		}
		close(ready)
	}()
	select {
	case a, ok := <-ready:
		if !ok {
			t.Fatalf("probe %v in %s exited before listening", args, host)
		}
		l.Addr = a
	case <-time.After(30 * time.Second):
		t.Fatalf("probe %v in %s did not listen within 30 s", args, host)
	}
	return l
}

// got reports the peer IP the listener saw payload from ("" if it never
// arrived).
func (l *listener) got(proto, payload string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "got" && f[1] == proto && f[3] == payload {
			return f[2]
		}
	}
	return ""
}

// dial runs a dial probe inside host and returns its one-line outcome.
func dial(t *testing.T, lab *Lab, host, proto, addr, payload string, timeout time.Duration) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := lab.Command(host, self)
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=dial %s %s %s %s", probeEnv, proto, addr, payload, timeout))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial probe in %s: %v", host, err)
	}
	return strings.TrimSpace(string(out))
}
