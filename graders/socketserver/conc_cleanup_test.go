package socketserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concForkingSource is a forking waiting server whose children first run
// childSetup (Python statements).
const concForkingSource = `import os, signal, socketserver, sys, time

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        %s
        data = self.request.recv(1024).strip()
        time.sleep(len(data))
        self.request.sendall(data.upper())

with socketserver.ForkingTCPServer(("", int(sys.argv[1])), Handler) as server:
    server.serve_forever()
`

// TestConcNoProcessLeftBehind grades a forking server while its children
// are still handling clients (each sleeping 20 s in its handler when the
// check ends) and shows that none of them, nor the server, outlives the
// grading: also when the children ignore SIGINT and SIGTERM, and when they
// have left the server's process group as well.
func TestConcNoProcessLeftBehind(t *testing.T) {
	gradertest.NeedPython(t)
	cases := []struct {
		name       string
		childSetup string
		leaveGroup bool
	}{
		{name: "children sleeping in their handlers", childSetup: "pass"},
		{name: "children ignoring SIGINT and SIGTERM", childSetup: "signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)"},
		{name: "children in a session of their own, ignoring SIGINT and SIGTERM", childSetup: "os.setsid(); signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)", leaveGroup: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "forking_server.py")
			require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, concForkingSource, tc.childSetup), 0o644))
			sub, err := graders.FileSubmission(path)
			require.NoError(t, err)

			var mu sync.Mutex
			var children []observe.ProcInfo
			ex := graders.NewExercise(&graders.Exercise{ID: "cleanup", Args: []string{"{port}"}, Checks: []*graders.Check{{
				ID: "held", Title: "children still handling clients when the check ends",
				Run: func(t *graders.T) error {
					p, port, err := probe.StartServer(t, "tcp")
					if err != nil {
						return err
					}
					for range ConcHeld {
						c, err := probe.DialTCP(t, port)
						if err != nil {
							return err
						}
						if err := c.Send([]byte(strings.Repeat("z", 20) + "\n")); err != nil {
							return err
						}
					}
					tr, ok, err := concWatchTree(t, p.Pid(), probe.ReadyTimeout, func(tr concTree) bool {
						if len(tr.children) < ConcHeld {
							return false
						}
						for _, c := range tr.children {
							if tc.leaveGroup && c.PGRP != c.PID {
								return false
							}
						}
						return true
					})
					if err != nil || !ok {
						return fmt.Errorf("the server did not fork %d children that are set up (saw %s): %v", ConcHeld, tr, err)
					}
					mu.Lock()
					children = tr.children
					mu.Unlock()
					return nil // the children are sleeping in their handlers
				},
			}}})
			begin := time.Now()
			res := ex.Grade(t.Context(), sub, graders.Options{})
			require.Len(t, res.Checks, 1)
			require.Equal(t, report.Pass, res.Checks[0].Status, res.Checks[0].Message)
			t.Logf("graded and stopped in %s", time.Since(begin).Round(time.Millisecond))

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, children, ConcHeld)
			for _, c := range children {
				assert.False(t, c.Alive(), "child %d (%s) of the graded server is still running", c.PID, c.Comm)
			}
			assert.Empty(t, gradertest.ProcessesMentioning(t, dir), "processes of the graded program left behind")
		})
	}
}
