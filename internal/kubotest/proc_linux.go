//go:build linux

package kubotest

import "syscall"

// setParentDeathSignal kills the daemon if the test binary dies first.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
