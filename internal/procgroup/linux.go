//go:build linux

package procgroup

import "syscall"

// setParentDeathSignal kills the process if the test binary dies first.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
