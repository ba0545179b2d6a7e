//go:build linux

package vaulttest

import "syscall"

// setParentDeathSignal kills the server if the test binary dies first.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
