//go:build unix && !linux

package kubotest

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
