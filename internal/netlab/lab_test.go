package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// namespaces lists the lab namespaces of run id that exist.
func namespaces(t *testing.T, id string) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "hwlab-"+id+"-") {
			got = append(got, f[0])
		}
	}
	return got
}

// TestScriptUpDown: `up` makes three namespaces with their addresses and
// firewalls, a second `up` changes nothing, `down` removes everything and a
// second `down` is a no-op; an `up` that fails half-way leaves nothing.
func TestScriptUpDown(t *testing.T) {
	lab := Up(t)
	if got := namespaces(t, lab.ID); len(got) != 3 {
		t.Fatalf("after up: namespaces %v, want 3", got)
	}
	for h, want := range map[string]string{Public: "10.213.0.1", Patient: "10.213.0.2", Specialist: "10.213.0.3"} {
		if lab.Addr(h) != want {
			t.Errorf("%s at %q, want %s", h, lab.Addr(h), want)
		}
	}
	rules := func(h string) string {
		out, err := lab.Command(h, "nft", "list", "ruleset").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list ruleset in %s: %v: %s", h, err, out)
		}
		return string(out)
	}
	if r := rules(Public); strings.TrimSpace(r) != "" {
		t.Errorf("public has a firewall:\n%s", r)
	}
	before := rules(Patient)
	for _, want := range []string{"policy drop;", "ct state established,related accept", `iif "lo" accept`, `counter name "dropped" drop`} {
		if !strings.Contains(before, want) {
			t.Errorf("patient's ruleset lacks %q:\n%s", want, before)
		}
	}
	if r := rules(Specialist); r != before {
		t.Errorf("specialist's ruleset differs from patient's:\n%s", r)
	}
	// No way out: only the lab's own subnet is routed.
	for _, h := range Hosts {
		out, err := lab.Command(h, "ip", "-4", "route", "show").CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		if r := strings.TrimSpace(string(out)); strings.Count(r, "\n") != 0 || !strings.HasPrefix(r, "10.213.0.0/24 dev ") {
			t.Errorf("%s routes %q, want only 10.213.0.0/24", h, r)
		}
	}

	// up again: same lab, the ruleset loaded once.
	start := time.Now()
	if _, err := lab.run("up"); err != nil {
		t.Fatal(err)
	}
	again := time.Since(start)
	if got := namespaces(t, lab.ID); len(got) != 3 {
		t.Fatalf("after a second up: namespaces %v", got)
	}
	if r := rules(Patient); r != before {
		t.Errorf("a second up changed the ruleset:\n%s", r)
	}

	if err := lab.Down(); err != nil {
		t.Fatal(err)
	}
	if got := namespaces(t, lab.ID); len(got) != 0 {
		t.Fatalf("after down: namespaces %v remain", got)
	}
	lab.down.Store(false) // down again: a no-op that succeeds
	if err := lab.Down(); err != nil {
		t.Fatalf("second down: %v", err)
	}
	t.Logf("netlab.sh up took %v (again: %v), down %v", lab.UpTook, again, lab.DownTook)

	// An up that fails half-way (here nft) removes what it made.
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "nft"), []byte("#!/bin/sh\necho nft: simulated failure >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	failID := lab.ID + "f"
	cmd := exec.Command(lab.script, "up")
	cmd.Env = append(os.Environ(), "NETLAB_ID="+failID, "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "up failed; removing the lab") {
		t.Fatalf("up with a failing nft: %v: %s", err, out)
	}
	if got := namespaces(t, failID); len(got) != 0 {
		exec.Command(lab.script, "down").Run()
		t.Fatalf("a failed up left %v", got)
	}
}

// TestFirewall proves the lab is a real network: patient and specialist
// open connections to public and get replies (TCP and UDP), while nothing
// reaches a listener on patient or specialist from another host: the
// packets time out (dropped, not refused) and the host's drop counter
// counts them. A listener on patient answers patient itself, so it is the
// firewall that keeps the others out.
func TestFirewall(t *testing.T) {
	lab := Up(t)
	t.Logf("netlab.sh up took %v", lab.UpTook)

	ln := map[string]map[string]*listener{}
	for _, h := range Hosts {
		ln[h] = map[string]*listener{}
		for _, proto := range []string{"tcp", "udp"} {
			ln[h][proto] = startProbe(t, lab, h, "listen", proto, lab.Addr(h)+":0")
		}
	}

	const wait = 5 * time.Second // generous: a reachable host answers in microseconds
	open := []struct{ from, to string }{
		{Patient, Public},
		{Specialist, Public},
		{Patient, Patient}, // loopback: patient's own listener works
		{Specialist, Specialist},
	}
	for _, c := range open {
		for _, proto := range []string{"tcp", "udp"} {
			needle := fmt.Sprintf("needle-%s-to-%s-%s", c.from, c.to, proto)
			if got := dial(t, lab, c.from, proto, ln[c.to][proto].Addr, needle, wait); got != "ok" {
				t.Errorf("%s → %s over %s: %s, want ok (an echoed reply)", c.from, c.to, proto, got)
			}
			if ip := ln[c.to][proto].got(proto, needle); ip != lab.Addr(c.from) {
				t.Errorf("%s → %s over %s: %s's listener saw the needle from %q, want %s", c.from, c.to, proto, c.to, ip, lab.Addr(c.from))
			}
		}
	}

	const blockedWait = 1500 * time.Millisecond
	blocked := []struct{ from, to string }{
		{Specialist, Patient},
		{Public, Patient},
		{Patient, Specialist},
		{Public, Specialist},
	}
	for _, c := range blocked {
		for _, proto := range []string{"tcp", "udp"} {
			needle := fmt.Sprintf("needle-%s-to-%s-%s", c.from, c.to, proto)
			before, err := lab.Dropped(c.to)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got := dial(t, lab, c.from, proto, ln[c.to][proto].Addr, needle, blockedWait)
			took := time.Since(start)
			after, err := lab.Dropped(c.to)
			if err != nil {
				t.Fatal(err)
			}
			if got != "timeout" {
				t.Errorf("%s → %s over %s: %s, want timeout (dropped by %s's firewall)", c.from, c.to, proto, got, c.to)
			}
			if after <= before {
				t.Errorf("%s → %s over %s: %s's drop counter stayed at %d", c.from, c.to, proto, c.to, before)
			}
			if ip := ln[c.to][proto].got(proto, needle); ip != "" {
				t.Errorf("%s → %s over %s: the listener received the needle from %s", c.from, c.to, proto, ip)
			}
			t.Logf("%s → %s over %s: %s after %v, %d packet(s) dropped", c.from, c.to, proto, got, took.Round(time.Millisecond), after-before)
		}
	}

	// No route out of the lab: a dial to a documentation address outside it
	// fails at once, without sending anything.
	for _, h := range Hosts {
		if got := dial(t, lab, h, "tcp", "192.0.2.1:80", "needle-outside", wait); got != "unreachable" {
			t.Errorf("%s → 192.0.2.1: %s, want unreachable (no route out of the lab)", h, got)
		}
	}
}

// TestScriptDropped: `netlab.sh dropped HOST` prints the firewall's drop
// counter, the number Lab.Dropped reads: 0 on a fresh lab, the same
// non-zero count once public's dial to the patient has been dropped, and an
// error for public, which has no firewall.
func TestScriptDropped(t *testing.T) {
	lab := Up(t)
	script := func(host string) (string, error) {
		cmd := exec.Command(lab.script, "dropped", host)
		cmd.Env = lab.Env()
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if got, err := script(Patient); err != nil || got != "0" {
		t.Fatalf("dropped patient on a fresh lab: %q, %v; want 0", got, err)
	}
	if got := dial(t, lab, Public, "tcp", lab.Addr(Patient)+":9", "x", 500*time.Millisecond); got != "timeout" {
		t.Fatalf("public dialling the patient: %s, want timeout", got)
	}
	got, err := script(Patient)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lab.Dropped(Patient)
	if err != nil {
		t.Fatal(err)
	}
	if want == 0 || got != fmt.Sprint(want) {
		t.Errorf("dropped patient after a dropped dial: %q, Lab.Dropped %d; want the same non-zero count", got, want)
	}
	if got, err := script(Public); err == nil || !strings.Contains(got, "public has no firewall") {
		t.Errorf("dropped public: %q, %v; want an error", got, err)
	}
}
