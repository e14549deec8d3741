package socketserver

import (
	"fmt"

	"github.com/netgrade/netgrade/graders"
)

// TCPThreading is the tcp-threading exercise: the waiting server made
// concurrent with socketserver.ThreadingTCPServer, one thread per client
// in one process ("show that this server uses only one process").
func TCPThreading() *graders.Exercise {
	return concWaitingExercise("tcp-threading", "Threading TCP server", concThreading())
}

// concThreading is tcp-threading's model: one process, a thread per client.
func concThreading() concModel {
	return concModel{
		base:  "socketserver.ThreadingTCPServer",
		check: "one-process",
		title: "handles each client in a thread of its one process",
		requirement: fmt.Sprintf("While %d clients are connected, the server is one process (no child process) whose thread count has grown by %d, one thread per client (seen in /proc).",
			ConcHeld, ConcHeld),
		hint:  "Build the server on socketserver.ThreadingTCPServer (or start a threading.Thread for each accepted connection): one process, a thread per client.",
		judge: concJudgeThreading,
		// A thread per client in the one process settles it, and so does
		// a child process, which a threading server never has.
		settled: func(before, tr concTree) bool {
			return len(tr.children) > 0 || tr.grown(before) >= ConcHeld
		},
	}
}

// concJudgeThreading judges the tree of a server with ConcHeld clients
// connected: no child process, a thread more for each.
func concJudgeThreading(before, tr concTree) error {
	want := fmt.Sprintf("one process, no child process, %d threads more than before the clients connected", ConcHeld)
	threads := fmt.Sprintf("its threads went from %d to %d", before.root.Threads, tr.root.Threads)
	switch {
	case len(tr.children) > 0:
		return graders.Failf("with %d clients connected the server ran %d other process%s: it forks a process per client instead of using threads of one process", ConcHeld, len(tr.children), concPluralEs(len(tr.children))).
			Want(want, tr.String()).
			WithHint("ForkingTCPServer starts a process per client; this exercise asks for ThreadingTCPServer: one process, a thread per client.")
	case tr.grown(before) >= ConcHeld:
		return nil
	case tr.grown(before) > 0:
		return graders.Failf("with %d clients connected the server's thread count grew by %d only (%s)", ConcHeld, tr.grown(before), threads).
			Want(want, tr.String())
	default:
		return graders.Failf("with %d clients connected the server is one process whose thread count did not grow (%s): it does not start a thread per client", ConcHeld, threads).
			Want(want, tr.String())
	}
}
