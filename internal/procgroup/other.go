//go:build !unix

package procgroup

import (
	"os/exec"
	"time"
)

func InOwnGroup(*exec.Cmd) {}

func Stop(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Kill()
	<-done
}
