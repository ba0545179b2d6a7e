//go:build unix && !linux

package vaulttest

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
