package socketserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/report"
)

// Concurrency is observed, not raced: netgrade holds connections open and
// looks at who is answered and at the process tree in /proc. The windows
// below bound waits for something a concurrent server does at once; only a
// server that does not do it at all ever waits them out.
const (
	// ConcHeld is how many silent clients the process-model checks hold
	// open while they read the process tree.
	ConcHeld = 3
	// ConcAnswerWindow is the named window of the "does not answer yet"
	// judgement: how long client B, which sent a 1-byte line, waits for
	// its answer while client A is connected and silent. A concurrent
	// waiting server answers after its mandated delay (1 s for the 1-byte
	// probe, 2 s if it does not strip the newline); a sequential one does
	// not answer at all while A is held. The 2 s beyond the delay cover an
	// interpreter's fork or thread start on a machine loaded on every core.
	ConcAnswerWindow = 4 * time.Second
	// ConcSpawnWindow bounds the wait, with ConcHeld clients connected, for
	// the server to show a handler (a child process or a thread) for each:
	// a concurrent server does so within milliseconds of accepting; only
	// one that serves a client at a time waits it out.
	ConcSpawnWindow = 5 * time.Second
	// concPoll is the longest time between two looks at a server's
	// process tree while waiting.
	concPoll = 15 * time.Millisecond
)

// The probes of the concurrent waiting servers: a waiting server sleeps one
// second per byte, so they are one or two letters.
const (
	concProbeAnswer = "hi"
	concProbeA      = "a"
	concProbeB      = "b"
)

// concModel is how a concurrent server must serve its clients: the
// socketserver class that gives it, its process-model check and the
// judgement of the process tree that check reads. tcp-forking and
// tcp-threading differ only in it.
type concModel struct {
	// base is the socketserver class the hints name.
	base string
	// check is the process-model check's ID suffix, title, requirement
	// and hint.
	check, title, requirement, hint string
	// judge judges the tree of a server with ConcHeld clients connected
	// against its tree before any client.
	judge func(before, tr concTree) error
	// settled reports whether a tree read while ConcHeld clients are
	// connected already decides the check, before ConcSpawnWindow has
	// passed: the model the check asks for shows in full, or a tree that
	// no server of that model ever has. Only evidence that lasts while the
	// clients are held may settle it (live children, threads already
	// grown): a tree caught half-way (connections accepted, handlers not
	// yet started) must not.
	settled func(before, tr concTree) bool
}

// concWaitingExercise builds tcp-forking or tcp-threading: the waiting
// server (receive, strip, wait len(data) seconds, answer upper-cased) made
// concurrent with a process or a thread per client.
func concWaitingExercise(id, title string, model concModel) *graders.Exercise {
	e := &graders.Exercise{
		ID:    id,
		Title: title,
		Usage: id + ".py PORT",
		Args:  []string{"{port}"},
		Texts: map[string]string{},
		Needs: checks.StartsID,
		// Its checks hold clients and judge who answers first: one at a
		// time, so that no other check of the grading loads the machine.
		Sequential: true,
		// answers: 2 s for `hi`; concurrent: 1 s for B, then 1 s for A.
		Floor: 4 * time.Second,
	}
	base := model.base
	e.Checks = []*graders.Check{
		checks.Starts("tcp", fmt.Sprintf(`Read the port with int(sys.argv[1]) and create the server with %s(("", port), Handler).`, base)).Worth(1),
		{
			ID: "answers", Title: "answers a client's line upper-cased",
			Requirement: fmt.Sprintf("A client that sends `%s` gets `%s` back (after the server's wait of one second per byte).",
				concProbeAnswer, strings.ToUpper(concProbeAnswer)),
			Category: report.Protocol, Points: 2,
			Hint: "In handle(): data = self.request.recv(1024).strip(), wait len(data) seconds, then self.request.sendall(data.upper()).",
			Run:  concCheckAnswers,
		},
		{
			ID: "concurrent", Title: "serves a second client while the first is still connected",
			Requirement: fmt.Sprintf("Client A connects and sends nothing; client B connects and sends `%s`: B is answered within %s, while A is still connected.",
				concProbeB, ConcAnswerWindow),
			Category: report.Concurrency, Points: 3,
			Hint: fmt.Sprintf("socketserver.TCPServer serves one client at a time: the second waits until the first is done. Use %s so that clients are served at the same time.", base),
			// B's window, then A's and B's answers once A has sent.
			Timeout: probe.ReadyTimeout + 3*ConcAnswerWindow + 2*time.Second,
			Run:     concCheckConcurrent,
		},
		{
			ID: model.check, Title: model.title,
			Requirement: model.requirement,
			Category:    report.Concurrency, Points: 2,
			Hint: model.hint,
			Run:  model.judgeCheck,
		},
		checks.Usage(e.Usage, ""),
	}
	return graders.NewExercise(e)
}

// concReplyWindow bounds the wait for a waiting server's answer to probe:
// one second per byte of the probe and of its newline (a server that does
// not strip it waits for that too), plus probe.LineTimeout.
func concReplyWindow(msg string) time.Duration {
	return time.Duration(len(msg)+1)*time.Second + probe.LineTimeout
}

// concLine returns msg as the line a client sends.
func concLine(msg string) []byte { return []byte(msg + "\n") }

// concAnswer returns the wait condition of the answer to msg, read as a
// client reads it: the last line of what came, whitespace stripped, is msg
// in any case (what it says exactly is the answers check's concern, so
// msg unchanged counts), or the server closed. A "please wait" line or a
// greeting before it is not the answer, and the answer's time is that of
// the piece that holds it.
func concAnswer(msg string) func(data []byte, eof bool) bool {
	return func(data []byte, eof bool) bool {
		s := strings.TrimSpace(string(data))
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = strings.TrimSpace(s[i+1:])
		}
		return eof || strings.EqualFold(s, msg)
	}
}

// concWaitAnswer waits up to window (scaled) for the answer to msg on c
// (see concAnswer) and returns what came, when the piece that completed
// it arrived, and whether it came.
func concWaitAnswer(c *probe.TCPConn, window time.Duration, msg string) ([]byte, time.Time, bool) {
	data, _, ok := c.WaitForAt(window, concAnswer(msg))
	if len(data) == 0 || !ok {
		return data, time.Time{}, ok
	}
	return data, c.ArrivedAt(len(data)), ok
}

// concAt says when something happened, relative to the check's start.
func concAt(t *graders.T, at time.Time) string {
	if at.IsZero() {
		return "never"
	}
	return fmt.Sprintf("at +%.1f s", at.Sub(t.Begin()).Seconds())
}

func concCheckAnswers(t *graders.T) error {
	_, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	c, err := probe.DialTCP(t, port)
	if err != nil {
		return graders.Failf("connecting to the server failed: %v", err)
	}
	defer c.Close()
	want := strings.ToUpper(concProbeAnswer)
	if err := c.Send(concLine(concProbeAnswer)); err != nil {
		return graders.Failf("sending %q to the server failed: %v", concProbeAnswer, err)
	}
	window := concReplyWindow(concProbeAnswer)
	data, ok := c.WaitFor(window, func(d []byte, _ bool) bool { return strings.TrimSpace(string(d)) == want })
	if ok {
		return nil
	}
	got := graders.Printable(data)
	switch {
	case len(data) == 0 && c.EOF():
		return graders.Failf("the server closed the connection without answering %q", concProbeAnswer).Want(want, "(nothing)")
	case len(data) == 0:
		return graders.Failf("the server did not answer %q within %s", concProbeAnswer, t.Timeout(window)).Want(want, "(nothing)")
	case strings.Contains(got, "b'") || strings.Contains(got, `b"`):
		return graders.Failf("the answer is the text of a bytes object (b'...'), not the bytes themselves").Want(want, got).
			WithHint("Send the bytes: self.request.sendall(data.upper()), not str(data.upper()).encode().")
	case strings.TrimSpace(got) == concProbeAnswer:
		return graders.Failf("the server sent the line back unchanged, not upper-cased").Want(want, got).
			WithHint("Send data.upper().")
	default:
		return graders.Failf("the answer to %q is not the line upper-cased", concProbeAnswer).Want(want, got)
	}
}

func concCheckConcurrent(t *graders.T) error {
	_, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	a, err := probe.DialTCP(t, port)
	if err != nil {
		return graders.Failf("connecting client A to the server failed: %v", err)
	}
	defer a.Close()
	t.Note("client A (%s) is connected and stays silent", a.LocalAddr())
	b, err := probe.DialTCP(t, port)
	if err != nil {
		return graders.Failf("connecting client B while client A is connected failed: %v", err).
			WithHint("The server must keep accepting while it serves a client.")
	}
	defer b.Close()
	if err := b.Send(concLine(concProbeB)); err != nil {
		return graders.Failf("client B could not send its line: %v", err)
	}
	bData, bAt, bOK := concWaitAnswer(b, ConcAnswerWindow, concProbeB)
	bOK = bOK && len(bData) > 0
	switch {
	case bOK && !a.EOF():
		t.Note("client B was answered while client A was still connected: clients are served at the same time")
		// A, held all along, must be served too.
		if err := a.Send(concLine(concProbeA)); err != nil {
			return graders.Failf("client A, held open while B was served, could not send its line: %v", err)
		}
		if data, _, ok := concWaitAnswer(a, ConcAnswerWindow, concProbeA); !ok || len(data) == 0 {
			return graders.Failf("client B was answered, but client A, connected first and then sending %q, got no answer within %s", concProbeA, t.Timeout(ConcAnswerWindow)).
				Want("an answer for A too", "(nothing)").
				WithHint("Every client must be served: keep each handler's own connection (self.request) and answer on it.")
		}
		return nil
	case bOK:
		return graders.Failf("client B was answered only after the server had closed client A's connection, which never sent anything: concurrency is not shown").
			Want("B answered while A is still connected", fmt.Sprintf("A closed by the server, B answered %s", concAt(t, bAt))).
			WithHint("Do not drop a client that is slow to send; serve clients at the same time instead.")
	case b.EOF() && len(bData) == 0:
		return graders.Failf("the server closed client B's connection without answering while client A was connected").
			Want(fmt.Sprintf("an answer to %q within %s", concProbeB, t.Timeout(ConcAnswerWindow)), "connection closed, nothing received")
	}
	// B was not answered while A was held: let A finish and see the order.
	t.Note("client B got no answer within %s while client A was connected and silent; client A now sends its line", t.Timeout(ConcAnswerWindow))
	if err := a.Send(concLine(concProbeA)); err != nil {
		return graders.Failf("client B got no answer within %s while client A was connected and silent, and A could not send: %v", t.Timeout(ConcAnswerWindow), err)
	}
	aData, aAt, aOK := concWaitAnswer(a, ConcAnswerWindow, concProbeA)
	aOK = aOK && len(aData) > 0
	bData, bAt, bOK = concWaitAnswer(b, ConcAnswerWindow, concProbeB)
	bOK = bOK && len(bData) > 0
	want := fmt.Sprintf("B answered within %s while A is connected and silent", t.Timeout(ConcAnswerWindow))
	switch {
	case aOK && bOK && !bAt.Before(aAt):
		return graders.Failf("the server serves one client at a time: client B got no answer while client A was connected and silent; once A sent its line, A was answered %s and only then B, %s", concAt(t, aAt), concAt(t, bAt)).
			Want(want, "B answered only after A was done")
	case bOK:
		return graders.Failf("client B got no answer within %s while client A was connected and silent; it was answered %s, after A had sent its line", t.Timeout(ConcAnswerWindow), concAt(t, bAt)).
			Want(want, "B answered only after A sent its line")
	default:
		return graders.Failf("client B got no answer while client A was connected and silent, nor after A had sent its line (A answered: %s)", concAt(t, aAt)).
			Want(want, "B never answered").
			WithHint("The server must accept and serve a second client; socketserver's serve_forever() does, a single accept() does not.")
	}
}

// concTree is what /proc shows of a server: the server process and the
// live (not zombie) processes of its tree.
type concTree struct {
	root     observe.ProcInfo
	children []observe.ProcInfo
}

// concReadTree reads the tree of the server rooted at pid. The server's own
// entry, with its thread count, is read before its children are looked for
// (observe.Tree): children started before the threads were counted are
// listed, so a tree never shows the threads a runtime starts for its
// children (Go waits for each child in a thread of its own) without the
// children.
func concReadTree(pid int) (concTree, error) {
	procs, err := observe.Tree(pid)
	if err != nil {
		return concTree{}, err
	}
	var tr concTree
	found := false
	for _, p := range procs {
		switch {
		case p.PID == pid:
			tr.root, found = p, true
		case p.State != "Z" && p.State != "X":
			tr.children = append(tr.children, p)
		}
	}
	if !found {
		return tr, observe.ErrExited
	}
	return tr, nil
}

// grown returns how many threads the server process has more than in
// before.
func (tr concTree) grown(before concTree) int { return tr.root.Threads - before.root.Threads }

// String describes the tree for a transcript or a failure.
func (tr concTree) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "process %d (%s, %d thread%s)", tr.root.PID, tr.root.Comm, tr.root.Threads, concPlural(tr.root.Threads))
	if len(tr.children) == 0 {
		b.WriteString(", no child process")
		return b.String()
	}
	fmt.Fprintf(&b, " with %d other process%s:", len(tr.children), concPluralEs(len(tr.children)))
	for _, c := range tr.children {
		fmt.Fprintf(&b, " %d (%s, parent %d)", c.PID, c.Comm, c.PPID)
	}
	return b.String()
}

func concPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func concPluralEs(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// concWatchTree looks at the server's tree until done(tree) or until window
// (scaled) has passed, and returns the last tree read. The looks follow
// poll's backoff, from 1 ms up to concPoll apart.
func concWatchTree(t *graders.T, pid int, window time.Duration, done func(concTree) bool) (concTree, bool, error) {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(window))
	defer cancel()
	var last concTree
	var readErr error
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		tr, err := concReadTree(pid)
		if err != nil {
			readErr = err
			return poll.Fail(err)
		}
		last = tr
		if done(tr) {
			return poll.Done()
		}
		return poll.Continue("%s", tr)
	}, poll.Backoff(poll.DefaultFirst, concPoll))
	switch {
	case readErr != nil:
		return last, false, readErr
	case err != nil:
		return last, false, nil
	}
	return last, true, nil
}

// concTreeErr turns a failure to read the server's tree into the verdict:
// the server's when it has ended, netgrade's otherwise.
func concTreeErr(t *graders.T, p *harness.Process, when string, err error) error {
	if f := probe.StillRunning(t, p, when); f != nil {
		return f
	}
	return fmt.Errorf("reading the server's process tree in /proc: %w", err)
}

// concCheckModel holds ConcHeld silent clients and reads the process tree:
// forking shows a child process per client, threading none and a thread
// per client more in the one process.
func concCheckModel(t *graders.T, model concModel) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	before, err := concReadTree(p.Pid())
	if err != nil {
		return concTreeErr(t, p, "just after it started listening", err)
	}
	t.Note("before any client: %s", before)
	var held []*probe.TCPConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range ConcHeld {
		c, err := probe.DialTCP(t, port)
		if err != nil {
			return graders.Failf("connecting client %d of %d (the others connected and silent) failed: %v", i+1, ConcHeld, err)
		}
		held = append(held, c)
	}
	t.Note("%d clients are connected and silent", ConcHeld)
	// Wait until the tree settles the check; a server whose tree does not
	// waits the window out and is judged on the last tree read, when every
	// handler it was going to start has long been started. A tree is never
	// judged half-way: a forking server that has accepted its clients but
	// not yet forked, while its runtime starts threads, is not taken for a
	// threading one.
	tr, _, err := concWatchTree(t, p.Pid(), ConcSpawnWindow, func(tr concTree) bool {
		return model.settled(before, tr)
	})
	if err != nil {
		return concTreeErr(t, p, fmt.Sprintf("while %d clients were connected", ConcHeld), err)
	}
	t.Note("while %d clients are connected: %s", ConcHeld, tr)
	return model.judge(before, tr)
}

// judgeCheck judges the check of the model (forks, threads): the server
// serves each client in a process or a thread of its own.
func (m concModel) judgeCheck(t *graders.T) error { return concCheckModel(t, m) }
