// Command healthwallet is a patient-held personal health wallet. With no
// command it opens the desktop app; with one it runs the CLI (see README.md).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// First: keeps fyne from logging about LANG=C.UTF-8 (see its doc).
	_ "github.com/healthwallet/healthwallet/internal/posixlocale"

	"golang.org/x/term"

	"github.com/healthwallet/healthwallet/app"
	"github.com/healthwallet/healthwallet/app/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Context:         ctx,
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
		ReadPassphrase:  readPassphrase,
		OpenApp:         func(home string) error { return app.Run(home) },
		OpenAppWithLink: func(home, link string) error { return app.Run(home, link) },
	}))
}

// readPassphrase prompts on the controlling terminal without echo, so it
// works even when stdin carries a recovery phrase.
func readPassphrase(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer tty.Close()
	tty.WriteString(prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	tty.WriteString("\n")
	return string(p), err
}
