package probe_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// httpProgram is an http.server program answering every GET with "hello",
// on HOST and PORT ({port} is the port it is given).
const httpProgram = `import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
%s
HOST, PORT = %s, %s
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"hello")
ThreadingHTTPServer((HOST, PORT), H).serve_forever()
`

// freePort returns a TCP port free right now, for a program that
// hard-codes one.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestStartHTTP starts HTTP servers right and wrong: on the port given, on
// a port of their own (followed, or charged under `port: argv`), on an
// address that is not this machine's, without a module the machine lacks.
// Every exchange is in the transcript.
func TestStartHTTP(t *testing.T) {
	gradertest.NeedPython(t)
	own := freePort(t)
	tests := []struct {
		name     string
		src      string
		port     string
		status   report.Status
		message  string
		hint     string
		followed bool
		pyFlags  []string
	}{
		{name: "the port given", src: fmt.Sprintf(httpProgram, "", `"localhost"`, "int(sys.argv[1])"), status: report.Pass},
		{name: "a port of its own, followed", src: fmt.Sprintf(httpProgram, "", `"localhost"`, fmt.Sprint(own)), status: report.Pass, followed: true},
		{name: "a port of its own, under port: argv", src: fmt.Sprintf(httpProgram, "", `""`, fmt.Sprint(own)), port: probe.PortArgv,
			status: report.Fail, message: fmt.Sprintf("listens on TCP 0.0.0.0:%d, not on the port it was given", own), hint: "sys.argv[1]"},
		{name: "an address of another machine", src: fmt.Sprintf(httpProgram, "", `"10.8.77.1"`, "8888"),
			status: report.Fail, message: `on 10.8.77.1, which is not an address of this machine: "Cannot assign requested address"`, hint: `"localhost"`},
		// -S: without site-packages, as on a machine without python3-tz.
		{name: "a module the machine lacks", src: fmt.Sprintf(httpProgram, "import pytz", `"localhost"`, "int(sys.argv[1])"), pyFlags: []string{"-S"},
			status: report.Fail, message: "No module named 'pytz'", hint: "use zoneinfo from the standard library"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "server.py")
			require.NoError(t, os.WriteFile(file, []byte(tc.src), 0o644))
			ex := &graders.Exercise{ID: "demo", Args: []string{"{port}"}, Texts: map[string]string{probe.TextPort: probe.PortFollow}}
			ex.Checks = []*graders.Check{{ID: "demo/get", Title: "get", Run: func(t *graders.T) error {
				s, err := probe.StartHTTP(t, []string{"TZ=Asia/Ho_Chi_Minh"})
				if err != nil {
					return err
				}
				if s.Followed() != tc.followed {
					return fmt.Errorf("followed %v", s.Followed())
				}
				x := s.Get("/")
				if x.Err != nil || string(x.Response.Body) != "hello" {
					return fmt.Errorf("GET /: %v %q", x.Err, x.Raw)
				}
				return nil
			}}}
			sub, err := graders.FileSubmission(file)
			require.NoError(t, err)
			sub.Command = slices.Concat(sub.Command[:1], tc.pyFlags, sub.Command[1:])
			var opt graders.Options
			if tc.port != "" {
				opt.Course = graders.Settings{Texts: map[string]string{probe.TextPort: tc.port}}
			}
			res := ex.Grade(context.Background(), sub, opt)
			require.Len(t, res.Checks, 1)
			c := res.Checks[0]
			require.Equal(t, tc.status, c.Status, "%s: %s", c.Message, c.Hint)
			assert.Contains(t, c.Message, tc.message)
			assert.Contains(t, c.Hint, tc.hint)
			if tc.status != report.Pass {
				return
			}
			var kinds []report.EventKind
			for _, e := range c.Transcript {
				kinds = append(kinds, e.Kind)
			}
			assert.Contains(t, kinds, report.EvHTTPRequest)
			assert.Contains(t, kinds, report.EvHTTPResponse)
			notes := ""
			for _, e := range c.Transcript {
				if e.Kind == report.EvNote {
					notes += e.Data + "\n"
				}
			}
			assert.Equal(t, tc.followed, strings.Contains(notes, "netgrade follows it"), notes)
		})
	}
}
