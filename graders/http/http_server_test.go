package http_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	httpch "github.com/netgrade/netgrade/graders/http"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	sharedOnce sync.Once
	sharedOpt  graders.Options
)

// options are the grading options the tests share: python3 resolved once.
func options() graders.Options {
	sharedOnce.Do(func() {
		sharedOpt = graders.Options{Interpreters: pyenv.NewInterpreters(), Ports: harness.NewPorts(uint64(os.Getpid()))}
	})
	return sharedOpt
}

// gradeFixture grades a fixture of http-server on the given checks only,
// with the fixture's own interpreter options (see fixtures.Fixture.Command).
func gradeFixture(t *testing.T, name string, only ...string) report.Result {
	t.Helper()
	path, f := fixturePath(t, name)
	sub, err := graders.FileSubmission(path)
	require.NoError(t, err)
	sub.Command = f.Command(sub.Command)
	return gradeSubmission(sub, only...)
}

// fixturePath writes a fixture of http-server into a folder of the test's
// and returns its path and the fixture.
func fixturePath(t *testing.T, name string) (string, fixtures.Fixture) {
	t.Helper()
	gradertest.NeedPython(t)
	fs, err := fixtures.For("http-server")
	require.NoError(t, err)
	i := slices.IndexFunc(fs, func(f fixtures.Fixture) bool { return f.Name == name })
	require.GreaterOrEqual(t, i, 0, "no fixture %s", name)
	path, err := fs[i].Write(t.TempDir())
	require.NoError(t, err)
	return path, fs[i]
}

// templateOnOwnPort writes template_localhost.py with its hard-coded 8888
// changed to a port of this test's, which it returns held (the caller
// closes it): the course's fixture tests grade the template on 8888 in a
// test binary running beside this one, and the two must not take each
// other's port.
func templateOnOwnPort(t *testing.T) (path string, held net.Listener, port int) {
	t.Helper()
	path, _ = fixturePath(t, "template_localhost.py")
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = held.Close() })
	port = held.Addr().(*net.TCPAddr).Port
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	changed := strings.Replace(string(src), "serverPort = 8888", "serverPort = "+strconv.Itoa(port), 1)
	require.NotEqual(t, string(src), changed, "the template no longer hard-codes serverPort = 8888")
	require.NoError(t, os.WriteFile(path, []byte(changed), 0o644))
	return path, held, port
}

// gradeFixtureFile grades a submission file of http-server on the given
// checks only.
func gradeFixtureFile(t *testing.T, path string, only ...string) report.Result {
	t.Helper()
	sub, err := graders.FileSubmission(path)
	require.NoError(t, err)
	return gradeSubmission(sub, only...)
}

// gradeSubmission grades sub as http-server, only the checks only names
// (all when none).
func gradeSubmission(sub graders.Submission, only ...string) report.Result {
	opt := options()
	opt.Course = graders.Settings{Only: only}
	return httpch.HTTPServer().Grade(context.Background(), sub, opt)
}

// TestHardCodedPortNoted grades the template that hard-codes
// localhost:8888: netgrade follows it there, and the report says so on
// the passing starts check, in the text a student reads.
func TestHardCodedPortNoted(t *testing.T) {
	path, held, port := templateOnOwnPort(t)
	require.NoError(t, held.Close())
	res := gradeFixtureFile(t, path, "http-server/starts", "http-server/home")
	require.True(t, res.Passed(), "%+v", res.Checks)
	require.Len(t, res.Checks[0].Notes, 1)
	assert.Contains(t, res.Checks[0].Notes[0], "127.0.0.1:"+strconv.Itoa(port)+", not on the port it was given")
	var buf bytes.Buffer
	require.NoError(t, render.Text(&buf, []report.Result{res}, render.TextOptions{Student: true}))
	assert.Contains(t, buf.String(), "note: the program listens on TCP 127.0.0.1:"+strconv.Itoa(port))
}

// TestJSONInsideHTMLReport grades the "JSON inside HTML" fixture: the
// failure names the mistake, the text report shows the exchange as curl -v
// does, and the hint says what to change.
func TestJSONInsideHTMLReport(t *testing.T) {
	res := gradeFixture(t, "json_in_html.py", "http-server/starts", "http-server/api-json")
	require.Len(t, res.Checks, 2)
	c := res.Checks[1]
	require.Equal(t, report.Fail, c.Status, c.Message)
	assert.Contains(t, c.Message, "an HTML page with JSON written inside it")
	var buf bytes.Buffer
	require.NoError(t, render.Text(&buf, []report.Result{res}, render.TextOptions{Student: true}))
	out := buf.String()
	for _, want := range []string{
		"> GET /api/date HTTP/1.1",
		"< HTTP/1.0 200 OK",
		"< Content-type: text/html",
		"<p>Now in json file: {",
		`self.send_header("Content-type", "application/json")`,
		"json.dumps(data)",
	} {
		assert.Contains(t, out, want)
	}
}

// TestStartFailures names what stopped a program before it listened.
func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		fixture, message, hint string
	}{
		{"nonlocal_bind.py", "10.8.77.1, which is not an address of this machine", `"localhost"`},
		{"pytz_paris.py", "No module named 'pytz'", "use zoneinfo from the standard library"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			res := gradeFixture(t, tc.fixture, "http-server/starts")
			require.Len(t, res.Checks, 1)
			c := res.Checks[0]
			require.Equal(t, report.Fail, c.Status)
			assert.Contains(t, c.Message, tc.message)
			assert.Contains(t, c.Hint, tc.hint)
		})
	}
}

// TestOwnPortHeldIsNotCharged grades the template that hard-codes its port
// while another program holds that port: netgrade runs the check again
// alone, and when the port is still held it is netgrade's error, never
// the student's failure.
func TestOwnPortHeldIsNotCharged(t *testing.T) {
	path, _, _ := templateOnOwnPort(t) // held until the test ends
	res := gradeFixtureFile(t, path, "http-server/starts")
	require.Len(t, res.Checks, 1)
	c := res.Checks[0]
	assert.Equal(t, report.Error, c.Status, c.Message)
	assert.Contains(t, c.Message, "own port is held by another program")
	assert.Zero(t, res.MaxScore, "an error is not charged")
}
