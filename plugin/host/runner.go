package host

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/hashicorp/go-plugin/runner"

	"github.com/xqg/xqg/internal/procutil"
	"github.com/xqg/xqg/plugin"
)

// procRunner starts the plugin through procutil instead of go-plugin's own runner, for two
// guarantees go-plugin does not give: the plugin leads its own process group (a terminal's
// Ctrl-C reaches only the host, which then stops the plugin in order, and a stop reaches
// anything the plugin spawned), and it gets SIGKILL from the kernel when the host dies,
// even by SIGKILL (Pdeathsig, with the forking thread kept alive for the plugin's lifetime).
//
// It also hands go-plugin plain os.Pipe readers rather than exec's StdoutPipe, because
// procutil reaps the child at once and exec would then close those pipes under go-plugin's
// readers, losing the plugin's last log lines (a panic's stack trace in particular).
type procRunner struct {
	cmd    *exec.Cmd
	proc   *procutil.Proc
	stdout *os.File
	stderr *os.File
	outW   *os.File
	errW   *os.File
	exited chan struct{}
}

var _ runner.Runner = (*procRunner)(nil)

func newProcRunner(cmd *exec.Cmd, exited chan struct{}) (*procRunner, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	return &procRunner{cmd: cmd, stdout: outR, stderr: errR, outW: outW, errW: errW, exited: exited}, nil
}

func (r *procRunner) Start(context.Context) error {
	p, err := procutil.Start(r.cmd)
	// The child holds its own copies; ours must go so the readers see EOF when it exits.
	r.outW.Close()
	r.errW.Close()
	if err != nil {
		r.stdout.Close()
		r.stderr.Close()
		close(r.exited)
		return err
	}
	r.proc = p
	go func() {
		<-p.Done()
		close(r.exited)
	}()
	return nil
}

func (r *procRunner) Wait(context.Context) error {
	if r.proc == nil {
		return nil
	}
	err := r.proc.Err()
	r.stdout.Close()
	r.stderr.Close()
	return err
}

// Kill SIGKILLs the plugin's whole process group.
func (r *procRunner) Kill(context.Context) error {
	if r.proc == nil {
		return nil
	}
	return procutil.KillGroup(r.proc.Pid, syscall.SIGKILL)
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *procRunner) Name() string          { return r.cmd.Path }

func (r *procRunner) ID() string {
	if r.proc == nil {
		return ""
	}
	return fmt.Sprint(r.proc.Pid)
}

func (r *procRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("%s is not an xqg vectorizer plugin speaking protocol %d, or failed before its handshake "+
		"(make build puts xqg-vectorizer next to xqg; see docs/plugins.md)", r.cmd.Path, plugin.ProtocolVersion)
}

func (r *procRunner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *procRunner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }
