//go:build unix

package procgroup

import (
	"os/exec"
	"syscall"
	"time"
)

// InOwnGroup runs the process in its own process group, so that stopping it
// stops whatever it started too.
func InOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// Stop sends SIGTERM to the process group, then SIGKILL after grace.
func Stop(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	pid := cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	// Anything left in the group (there should be nothing).
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
