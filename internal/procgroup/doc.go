// Package procgroup starts the servers tests run (Vault, Kubo) in a
// process group of their own, and stops the whole group: SIGTERM, then
// SIGKILL after a grace period. On Linux a server also dies with the test
// binary that started it, so a crashed test leaves nothing running.
package procgroup
