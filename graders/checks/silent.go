package checks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
)

// silentClient connects as a client that closes at once without
// sending, then lets next play the next client, and checks the server
// still runs. It serves every TCP server exercise; next returns the
// connection it used, or nil.
//
// One mistake, one deduction: a control run first tells whether a silent
// client could be to blame at all. A server serves an ordinary client
// (next) that then closes, and the next client after it. When that fails,
// the server serves no next client after any client, silent or not: the
// exercise's next-client check judges that, and this one, which cannot
// tell whether a silent client would have stopped it, is not judged (left
// out of the score: one mistake, one deduction, and no point given without
// evidence). Otherwise the silent client takes the ordinary one's place on a
// fresh server, which is the program whose exit and traceback the report
// shows.
func silentClient(t *graders.T, next probe.NextClient) error {
	t.Note("control: does the server serve a next client after an ordinary client that closes? If not, a silent client cannot be to blame")
	err := ordinaryRun(t, next)
	var cf *graders.Failure
	switch {
	case errors.As(err, &cf):
		return graders.NotJudgedf("after an ordinary client the next client is not served either (%s): whether a silent client stops the server cannot be seen; %s/next-client judges the server that serves no next client", cf.Message, exerciseOf(t.ID()))
	case err != nil:
		return err
	}
	return silentRun(t, next)
}

// silentRun is silentClient's probe: a silent client, then next.
func silentRun(t *graders.T, next probe.NextClient) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	silent, err := probe.Connect(t, p, nil, port, "the silent client")
	if err != nil {
		return err
	}
	t.Note("this client closes without sending anything")
	silent.CloseWrite()
	silent.WaitEOF(probe.SilentDrain)
	silent.Close()
	closedAt := p.Output().Len()
	c, err := next(t, p, port)
	if c != nil {
		c.Close()
	}
	if err != nil {
		var f *graders.Failure
		if errors.As(err, &f) {
			f.Message = "after a client that connected and closed without sending, " + f.Message
			spun := probe.EmptyLines(p, closedAt)
			if spun >= probe.SpinLines {
				f.Message += fmt.Sprintf("; the program printed at least %d empty lines: it keeps calling recv() on the closed connection", spun)
			}
			if f.Hint == "" || spun >= probe.SpinLines {
				f.Hint = "recv() returns b'' when the client has closed without sending: treat it as the end of that client (if not data: break), close its socket, and accept() the next one."
			}
		}
		return err
	}
	return probe.StillRunning(t, p, "after a client that closed without sending")
}

// ordinaryRun is silentClient's control: an ordinary client, closed after
// its exchange, then next.
func ordinaryRun(t *graders.T, next probe.NextClient) error {
	p, port, err := probe.StartServer(t, "tcp")
	if err != nil {
		return err
	}
	defer p.Stop()
	for range 2 {
		c, err := next(t, p, port)
		if c != nil {
			c.Close()
		}
		if err != nil {
			return err
		}
	}
	return probe.StillRunning(t, p, "after two clients")
}

// exerciseOf returns the exercise part of a check ID ("tcp-server" of
// "tcp-server/silent-client").
func exerciseOf(id string) string {
	ex, _, _ := strings.Cut(id, "/")
	return ex
}
