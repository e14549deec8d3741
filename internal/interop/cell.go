package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/sandbox"
)

// Message is what every client of the matrix is asked to send: spaces and
// non-ASCII text, as the course's exercise asks a client to handle, and
// letters Latin-1 has (à, á) beside one it has not (ạ), so that a client
// or server that uses Latin-1 shows it.
const Message = "Xin chào các bạn"

// Verdict is the colour of a cell.
type Verdict string

// The verdicts of a cell.
const (
	// Green: the message arrived whole, the server logged it right and,
	// over TCP, the client printed the server's reply.
	Green Verdict = "green"
	// Amber: the programs talked, but something was lost or garbled, or
	// one of them did not end the conversation as it should.
	Amber Verdict = "amber"
	// Red: no conversation.
	Red Verdict = "red"
	// Grey: one side could not run at all (its own grade says why).
	Grey Verdict = "grey"
)

// Side is one side of a cell: a student's program (an index into the
// pair's programs) or netgrade's reference.
type Side struct {
	Student string `json:"student"`
	// Ref is true for netgrade's reference implementation.
	Ref bool `json:"ref,omitempty"`
	// Program is the index of the student's file in the pair's programs.
	Program int `json:"program"`
}

// Request is a cell as the pair runner reads it.
type Request struct {
	Client       string  `json:"client"`
	Server       string  `json:"server"`
	Proto        string  `json:"proto"`
	ClientSide   Side    `json:"client_side"`
	ServerSide   Side    `json:"server_side"`
	Message      string  `json:"message"`
	LogLine      string  `json:"log_line,omitempty"`
	TimeoutScale float64 `json:"timeout_scale,omitempty"`
}

// Outcome is what a cell found.
type Outcome struct {
	Verdict Verdict `json:"verdict"`
	// Reason says what went wrong (or right) in one line.
	Reason string `json:"reason"`
	// Culprit is the side the reason blames: client, server, or empty.
	Culprit string `json:"culprit,omitempty"`
	// Diagnosis names the usual culprit found, if one was (see Diagnoses).
	Diagnosis string `json:"diagnosis,omitempty"`
	// Client and Server are the transcripts of what each program printed
	// and how it ended; Wire is what went between them.
	ClientLog []string `json:"client_transcript"`
	ServerLog []string `json:"server_transcript"`
	Wire      []string `json:"wire"`
	// Sandbox is the isolation the cell ran under.
	Sandbox    string `json:"sandbox,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// The waits of a cell, before the course's timeout scale.
const (
	// startDeadline bounds a server's start: until it binds its port.
	startDeadline = 10 * time.Second
	// talkDeadline bounds the conversation: from the client's start to
	// its message's arrival (UDP) or the server's reply (TCP).
	talkDeadline = 10 * time.Second
	// endWindow is how long a client gets to end once the conversation is
	// over (its datagram arrived, the reply reached it), and a server to
	// print the message it got: a named window, the one negative wait of
	// a cell.
	endWindow = 3 * time.Second
	// cellSlack is added to a cell's time bound for starting and stopping.
	cellSlack = 20 * time.Second
)

// Timeout is the time bound of one cell under a timeout scale.
func Timeout(scale float64) time.Duration {
	return scaled(startDeadline+talkDeadline+2*endWindow, scale) + cellSlack
}

func scaled(d time.Duration, scale float64) time.Duration {
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(d) * scale)
}

// Env is what a cell needs from netgrade: its references, interpreters and
// ports.
type Env struct {
	// Reference returns the reference implementation of an exercise.
	Reference func(exercise string) (RefFunc, error)
	// Interpreters resolve python3 once for every cell; nil runs the
	// command as given (a pair runner: its sandbox passes the interpreter
	// resolved already, or the image's python3 is no shim), so that a cell
	// does not pay a Python start to resolve one.
	Interpreters *pyenv.Interpreters
	// Ports hands out the ports of the cells; nil gives each cell its own.
	Ports *harness.Ports
}

// Run is the pair runner's function (a sandbox.PairFunc): it runs the cell
// the pair's request describes and returns its Outcome as JSON.
func (e Env) Run(ctx context.Context, p sandbox.Pair) (json.RawMessage, error) {
	var req Request
	if err := json.Unmarshal(p.Request, &req); err != nil {
		return nil, fmt.Errorf("reading the cell: %w", err)
	}
	if e.Ports == nil {
		e.Ports = harness.NewPorts(uint64(time.Now().UnixNano()))
	}
	// A program that binds a port of its own choosing (a hard-coded 8888)
	// may find it held by another cell's: the cell then runs again alone,
	// so that it gets the verdict it would get in a sandbox of its own.
	release := e.Ports.Shared()
	out, err := e.cell(ctx, p, req)
	release()
	if errors.Is(err, errRefStart) || (err == nil && portTaken(out)) {
		release = e.Ports.Alone()
		out, err = e.cell(ctx, p, req)
		release()
	}
	if err != nil {
		return nil, err
	}
	out.Sandbox = p.Sandbox
	return json.Marshal(out)
}

// cell runs the server, then the client against it through the relay, and
// judges what happened.
func (e Env) cell(ctx context.Context, p sandbox.Pair, req Request) (*Outcome, error) {
	begin := time.Now()
	port, err := e.Ports.Next()
	if err != nil {
		return nil, err
	}
	c := &run{req: req, begin: begin, port: port}
	defer c.stopAll()

	var why string
	c.server, why, err = e.start(ctx, p, req.Server, req.ServerSide, []string{strconv.Itoa(port)})
	if err != nil {
		return nil, err
	}
	if c.server == nil {
		return c.finish(&Outcome{Verdict: Grey, Culprit: "server", Reason: "the server could not be started: " + why}), nil
	}
	sctx, cancel := context.WithTimeout(ctx, scaled(startDeadline, req.TimeoutScale))
	ready, berr := observe.AwaitBound(sctx, c.server.pid(), req.Proto, port, c.server.done())
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if req.ServerSide.Ref && ended(c.server) {
		// netgrade's own server could not bind: the port was taken.
		return nil, fmt.Errorf("%w: %s", errRefStart, strings.Join(transcript(c.server, begin), "; "))
	}
	if berr != nil {
		return c.finish(c.notBound(ready, berr)), nil
	}
	server := c.server
	c.relay, err = listenRelay(req.Proto, port, c.clientIdle, server.waitingToRead)
	if err != nil {
		return nil, err
	}
	client, why, err := e.start(ctx, p, req.Client, req.ClientSide, []string{"127.0.0.1", strconv.Itoa(c.relay.port), req.Message})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.client = client
	c.mu.Unlock()
	if c.client == nil {
		return c.finish(&Outcome{Verdict: Grey, Culprit: "client", Reason: "the client could not be started: " + why}), nil
	}
	var out *Outcome
	if req.Proto == "udp" {
		out = c.talkUDP(ctx)
	} else {
		out = c.talkTCP(ctx)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if req.ServerSide.Ref && ended(c.server) {
		// netgrade's own server never ends by itself: it could not bind.
		return nil, fmt.Errorf("%w: %s", errRefStart, strings.Join(transcript(c.server, begin), "; "))
	}
	return c.finish(out), nil
}

// start starts one side: a student's file under the harness or a
// reference in netgrade. It returns no program, and why, when the
// student's program cannot be started at all (the student's fault).
func (e Env) start(ctx context.Context, p sandbox.Pair, exercise string, s Side, args []string) (program, string, error) {
	if s.Ref {
		if e.Reference == nil {
			return nil, "", errors.New("no reference implementations given")
		}
		f, err := e.Reference(exercise)
		if err != nil {
			return nil, "", err
		}
		return startRef(ctx, f, args), "", nil
	}
	if s.Program < 0 || s.Program >= len(p.Programs) {
		return nil, "", fmt.Errorf("the cell names program %d of %d", s.Program, len(p.Programs))
	}
	prog := p.Programs[s.Program]
	file, err := prog.File()
	if err != nil {
		return nil, "", err
	}
	var argv []string
	if len(prog.Command) > 0 {
		argv = harness.Expand(harness.FileTemplate(prog.Command, file, args), nil)
	} else if argv, err = harness.FileCommand(file, args); err != nil {
		return nil, err.Error(), nil
	}
	if p.Python != "" && len(argv) > 0 && argv[0] == "python3" {
		argv[0] = p.Python
	}
	var rt harness.Runtime // nil: the command as given (see Env.Interpreters)
	if e.Interpreters != nil {
		rt = e.Interpreters
	}
	proc, err := harness.Start(ctx, harness.Spec{Argv: argv, Dir: prog.Dir}, rt)
	if err != nil {
		var se *harness.StartError
		if errors.As(err, &se) && !se.Netgrade {
			return nil, se.Error(), nil
		}
		return nil, "", fmt.Errorf("starting %s's %s: %w", prog.Student, exercise, err)
	}
	return studentProgram{proc}, "", nil
}

// errRefStart is returned when netgrade's reference server could not
// bind the port it was given (something else of the machine took it).
var errRefStart = errors.New("the reference server could not start")

// portTaken reports whether a program of the cell could not bind a port
// because another program held it.
func portTaken(out *Outcome) bool {
	for _, l := range append(slices.Clone(out.ServerLog), out.ClientLog...) {
		if strings.Contains(strings.ToLower(l), "address already in use") || strings.Contains(l, "[Errno 98]") {
			return true
		}
	}
	return false
}
