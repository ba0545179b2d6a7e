//go:build unix && !linux

package vault

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
