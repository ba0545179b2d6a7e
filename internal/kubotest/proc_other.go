//go:build !unix

package kubotest

import (
	"os/exec"
	"time"
)

func inOwnGroup(*exec.Cmd) {}

func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Kill()
	<-done
}
