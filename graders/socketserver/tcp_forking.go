package socketserver

import (
	"fmt"

	"github.com/netgrade/netgrade/graders"
)

// TCPForking is the tcp-forking exercise: the waiting server made
// concurrent with socketserver.ForkingTCPServer, one process per client
// ("show that this server is really launching several processes").
func TCPForking() *graders.Exercise {
	return concWaitingExercise("tcp-forking", "Forking TCP server", concForking())
}

// concForking is tcp-forking's model: a child process per client.
func concForking() concModel {
	return concModel{
		base:  "socketserver.ForkingTCPServer",
		check: "process-per-client",
		title: "handles each client in a child process of its own",
		requirement: fmt.Sprintf("While %d clients are connected, the server has %d child processes, one per client (seen in /proc).",
			ConcHeld, ConcHeld),
		hint:  "Build the server on socketserver.ForkingTCPServer (or os.fork() for each accepted connection), so that each client is served by a process of its own.",
		judge: concJudgeForking,
		// Only a child per client settles it: a server without them may
		// still be forking, so one that serves clients in threads (or one
		// at a time) is judged when ConcSpawnWindow has passed.
		settled: func(_, tr concTree) bool { return len(tr.children) >= ConcHeld },
	}
}

// concJudgeForking judges the tree of a server with ConcHeld clients
// connected: a child process for each.
func concJudgeForking(before, tr concTree) error {
	want := fmt.Sprintf("%d child processes of the server, one per connected client", ConcHeld)
	threads := fmt.Sprintf("its threads went from %d to %d", before.root.Threads, tr.root.Threads)
	switch {
	case len(tr.children) >= ConcHeld:
		return nil
	case len(tr.children) > 0:
		return graders.Failf("with %d clients connected the server had only %d child process%s", ConcHeld, len(tr.children), concPluralEs(len(tr.children))).
			Want(want, tr.String())
	case tr.grown(before) > 0:
		return graders.Failf("with %d clients connected the server stayed one process (%s): it serves clients in threads, not in processes of their own", ConcHeld, threads).
			Want(want, tr.String()).
			WithHint("ThreadingTCPServer uses threads of one process; this exercise asks for ForkingTCPServer, which forks a process per client.")
	default:
		return graders.Failf("with %d clients connected the server started neither a process nor a thread for them (%s): it serves one client at a time", ConcHeld, threads).
			Want(want, tr.String())
	}
}
