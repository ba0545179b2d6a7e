package cli

import (
	"fmt"

	"github.com/healthwallet/healthwallet/internal/testca"
)

// runDev is the hidden `dev` command: tools for demos and tests, not for
// patients (help does not list it).
//
//	healthwallet dev testca DIR [--host H]...
//
// writes a fresh local test CA and a certificate for the hosts (default
// 127.0.0.1 and localhost) to DIR, and prints their paths as JSON
// ({"ca", "cert", "key"}): a keeper's --shl-cert/--shl-key in the demo,
// its CA trusted explicitly by the viewers (--ca-file,
// NODE_EXTRA_CA_CERTS). Never for production: certmagic gets a real
// certificate there (--shl-domain).
func runDev(c *ctx, args []string) error {
	const use = "healthwallet dev testca DIR [--host H]..."
	if len(args) == 0 || args[0] != "testca" {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	fs := c.flags("dev testca")
	var hosts stringList
	fs.Var(&hosts, "host", "a host name or IP the certificate is for (repeatable; default 127.0.0.1 and localhost)")
	pos, err := c.parseWithArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	if len(hosts) == 0 {
		hosts = stringList{"127.0.0.1", "localhost"}
	}
	ca, err := testca.New()
	if err != nil {
		return err
	}
	files, err := ca.WriteFiles(pos[0], hosts...)
	if err != nil {
		return err
	}
	return c.printJSON(struct {
		CA   string `json:"ca"`
		Cert string `json:"cert"`
		Key  string `json:"key"`
	}{files.CA, files.Cert, files.Key})
}
