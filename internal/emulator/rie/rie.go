// Package rie runs a Lambda function binary locally under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, a Go tool dependency of this
// module) and invokes it, as Lambda would.
package rie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Pool is the emulated execution environments of one function. Like
// Lambda, each environment handles one invocation at a time; more
// environments serve concurrent requests.
type Pool struct {
	Name    string
	timeout time.Duration
	idle    chan *environment
	all     []*environment
	// Invocations hold running for reading; Close takes it for writing, so
	// it waits for them, and no invocation starts on a stopped pool.
	running sync.RWMutex
	closed  bool
}

type environment struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed when the emulator process has ended
}

// ErrTimeout is what Invoke returns when the function ran out of time; it
// says so through a Timeout method, as net.Error does.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "function timed out" }
func (timeoutError) Timeout() bool { return true }

// Options describe the function to run.
type Options struct {
	Name      string            // for messages
	RIE       string            // path of the aws-lambda-rie binary
	Bootstrap string            // path of the function binary
	Env       map[string]string // the function's environment variables
	Timeout   time.Duration     // per invocation; Lambda's default is 3 s
	MemoryMB  int
	// Concurrency is the number of environments (default 1).
	Concurrency int
	Output      io.Writer // where the function's and RIE's logs go
}

// Start launches the environments and waits until they accept invocations.
func Start(ctx context.Context, o Options) (*Pool, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	f := &Pool{Name: o.Name, timeout: o.Timeout, idle: make(chan *environment, o.Concurrency)}
	for range o.Concurrency {
		env, err := start(ctx, o)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.all = append(f.all, env)
		f.idle <- env
	}
	return f, nil
}

// start runs one environment. aws-lambda-rie takes addresses, not listeners,
// so its ports are picked here and another process may take one before it
// binds it: the emulator then exits at once, or the port turns out not to
// be its own (owns), and start tries fresh ports.
func start(ctx context.Context, o Options) (*environment, error) {
	const attempts = 5
	for i := 1; ; i++ {
		env, err := startOnce(ctx, o)
		if !errors.Is(err, errExited) || i == attempts {
			return env, err
		}
	}
}

var errExited = errors.New("exited while starting")

func startOnce(ctx context.Context, o Options) (*environment, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// --log-level: RIE would otherwise read the function's own LOG_LEVEL.
	cmd := exec.Command(o.RIE, "--log-level", "warn", "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, o.Bootstrap)
	// Only what Lambda would set: the host's variables must not leak into the
	// function and make it behave differently here.
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"AWS_LAMBDA_FUNCTION_NAME=" + o.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(o.Timeout.Seconds())),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(o.MemoryMB),
		"AWS_REGION=local", "TZ=:UTC",
	}
	for k, v := range o.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = o.Output, o.Output
	// Own process group, killed with us (where the OS can: processAttrs):
	// Ctrl-C or a crash leaves nothing running.
	cmd.SysProcAttr = processAttrs()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.RIE, err)
	}
	env := &environment{cmd: cmd, url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", exited: make(chan struct{})}
	go func() { cmd.Wait(); close(env.exited) }()
	// Generous: this waits for a process to bind, not for a deadline a
	// loaded machine could miss.
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-env.exited:
			return nil, fmt.Errorf("aws-lambda-rie for %s %w (%v)", o.Name, errExited, cmd.ProcessState)
		default:
		}
		c, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			c.Close()
			if err := env.owns(invokeAddr, runtimeAddr); err != nil {
				env.stop()
				return nil, err
			}
			return env, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			env.stop()
			return nil, fmt.Errorf("aws-lambda-rie for %s did not listen on %s within a minute", o.Name, invokeAddr)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// owns checks that the emulator itself listens on its addresses, not a
// process that took a port between the probe and the emulator's bind;
// start tries fresh ports when it does not (errExited).
func (e *environment) owns(addrs ...string) error {
	for _, addr := range addrs {
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		ok, err := listensOn(e.cmd.Process.Pid, port)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("another process listens on %s, which aws-lambda-rie was given: %w", addr, errExited)
		}
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Package is aws-lambda-rie's main package, a tool dependency of the module.
const Package = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Build builds aws-lambda-rie for this machine into out, from the version
// the module's go.mod pins (the go command finds it from the working
// directory, inside the module).
func Build(ctx context.Context, out string) error {
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, Package).CombinedOutput(); err != nil {
		return fmt.Errorf("build aws-lambda-rie: %v\n%s", err, b)
	}
	return nil
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// Invoke sends one event and returns the function's answer.
func (f *Pool) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	f.running.RLock()
	defer f.running.RUnlock()
	if f.closed {
		return nil, fmt.Errorf("function %s: stopped", f.Name)
	}
	var env *environment
	select {
	case env = <-f.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { f.idle <- env }()
	ctx, cancel := context.WithTimeout(ctx, f.timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, ErrTimeout
	}
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	// A function error comes back as 200 with {"errorMessage","errorType"};
	// the caller sees it is not a proxy response.
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("function %s failed: %s", f.Name, bytes.TrimSpace(body))
	}
	return body, nil
}

// PIDs are the process ids of the emulators. Each leads its own process
// group, which holds the function too (the emulator's child).
func (f *Pool) PIDs() []int {
	var pids []int
	for _, env := range f.all {
		pids = append(pids, env.cmd.Process.Pid)
	}
	return pids
}

// Close stops every environment once the invocations in progress have
// finished (each is bounded by the function's timeout).
func (f *Pool) Close() {
	f.running.Lock()
	defer f.running.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for _, env := range f.all {
		env.stop()
	}
}

func (e *environment) stop() {
	syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(2 * time.Second):
		syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
	}
}
