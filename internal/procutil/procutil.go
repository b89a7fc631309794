// Package procutil starts child processes so that none outlives xqg: each child leads its own
// process group (so a stop reaches whatever it spawned) and gets SIGKILL from the kernel when
// the thread that started it dies (so a crashed or killed parent takes it down too).
//
// Typical use:
//
//	p, err := procutil.Start(cmd)        // cmd.SysProcAttr is set up by Start
//	...
//	err = p.Stop(ctx, 10*time.Second)    // SIGTERM to the group, SIGKILL after the grace period
//
// Code that hands an *exec.Cmd to someone else to start (go-plugin does) uses Configure on it and
// KillGroup(pid) when done.
package procutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Configure makes cmd start in a new process group and be SIGKILLed when its parent thread dies.
// It keeps other SysProcAttr fields the caller set.
func Configure(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// Proc is a started child. Done is closed once the child has exited and been reaped.
type Proc struct {
	Cmd  *exec.Cmd
	Pid  int
	done chan struct{}
	err  error
}

// Start configures and starts cmd. Start and Wait run on one goroutine locked to its OS thread
// for the child's whole life: Pdeathsig fires when the *thread* that forked the child exits,
// and Go may retire threads, so the forking thread must stay alive exactly as long as the child.
func Start(cmd *exec.Cmd) (*Proc, error) {
	Configure(cmd)
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.Pid = cmd.Process.Pid
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Done is closed when the child has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the result of cmd.Wait; valid once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM to the child's process group, SIGKILL after grace (or at once when ctx ends),
// waits for the child to be reaped and finally SIGKILLs the group again so that no grandchild
// survives. It returns nil once everything is gone; the child's own exit status is in Err.
func (p *Proc) Stop(ctx context.Context, grace time.Duration) error {
	if !p.Exited() {
		_ = KillGroup(p.Pid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if !p.Exited() {
		_ = KillGroup(p.Pid, syscall.SIGKILL)
		// SIGKILL cannot be ignored; the bound only guards against a process stuck in the kernel.
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("process %d did not exit after SIGKILL", p.Pid)
		}
	}
	_ = KillGroup(p.Pid, syscall.SIGKILL)
	// Grandchildren orphaned by the kill die asynchronously; wait (bounded) so that "stopped"
	// means nothing of the group runs any more when we return.
	for deadline := time.Now().Add(5 * time.Second); GroupAlive(p.Pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// KillGroup sends sig to every process in the group pgid. A group that is already gone is not an error.
func KillGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return fmt.Errorf("invalid process group %d", pgid)
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, pgid, err)
	}
	return nil
}

// GroupAlive reports whether any live (non-zombie) process belongs to group pgid. Zombies are
// ignored: they run nothing and are reaped by init whenever it gets to them, which in some
// containers takes seconds.
func GroupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc: trust kill(2)
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			return true
		}
	}
	return false
}
