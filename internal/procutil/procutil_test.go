package procutil

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func waitGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for GroupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopReachesGroupAndEscalates(t *testing.T) {
	// The shell ignores SIGTERM and has a child of its own: only SIGKILL to the group ends both.
	cmd := exec.Command("/bin/sh", "-c", "trap '' TERM; sleep 300 & while true; do sleep 1; done")
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if pgid, err := syscall.Getpgid(p.Pid); err != nil || pgid != p.Pid {
		t.Fatalf("child pgid %d (%v), want its own group %d", pgid, err, p.Pid)
	}
	time.Sleep(100 * time.Millisecond) // let the shell start its child
	start := time.Now()
	if err := p.Stop(context.Background(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("Stop returned before the child exited")
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Errorf("SIGTERM was not ignored? stopped after %s", time.Since(start))
	}
	if GroupAlive(p.Pid) {
		t.Errorf("group %d survived Stop", p.Pid)
	}
	if err := p.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("exit status %v, want killed", err)
	}
}

func TestKillGroupOfMissingGroup(t *testing.T) {
	if err := KillGroup(0, syscall.SIGTERM); err == nil {
		t.Error("pgid 0 accepted")
	}
	cmd := exec.Command("/bin/true")
	p, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	waitGone(t, p.Pid)
	if err := KillGroup(p.Pid, syscall.SIGTERM); err != nil {
		t.Errorf("signalling a finished group: %v", err)
	}
}

// TestChildDiesWithParent runs this test binary as a parent that starts a child and is then
// SIGKILLed (no cleanup code can run); Pdeathsig must take the child down.
func TestChildDiesWithParent(t *testing.T) {
	if os.Getenv("PROCUTIL_HELPER") == "parent" {
		p, err := Start(exec.Command("sleep", "300"))
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(p.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestChildDiesWithParent$")
	parent.Env = append(os.Environ(), "PROCUTIL_HELPER=parent")
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if !GroupAlive(child) {
		t.Fatalf("child %d not running", child)
	}
	_ = parent.Process.Kill()
	_ = parent.Wait()
	waitGone(t, child)
}
