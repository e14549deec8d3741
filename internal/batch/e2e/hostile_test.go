package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest/hostile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// quiet is a negative window: longer than several beats of the setsid
// daemon (one every 100 ms), so that a log unchanged for that long shows
// the daemon dead, and than a connection still in flight to the host's
// listener.
const quiet = 1500 * time.Millisecond

// rawDanger are bytes a report must never hold raw: terminal control, a
// bidi override, GitHub's legacy log command.
var rawDanger = []string{"\x1b", "\x00", "\x07", "\x08", "\u202e", "##["}

// hostileCourse grades udp-server with two checks: each check starts the
// program again, and the corpus is heavy on purpose (a fork bomb, a memory
// hog, threads spinning on the CPU); two checks show every behaviour and
// keep that load off the timing-sensitive tests other packages run at the
// same time.
const hostileCourse = `name: hostile corpus
exercises:
  - id: udp-server
    file: udp-server.py
    checks:
      start-line: {enabled: false}
      timestamp: {enabled: false}
      verbatim: {enabled: false}
      utf8: {enabled: false}
      many-clients: {enabled: false}
      invalid-utf8: {enabled: false}
      usage: {enabled: false}
`

// hostileClass writes one student per hostile program, each handing it in
// as udp-server.py, into root/submissions, and returns the folder.
func hostileClass(t *testing.T, root string, hostPort int) (string, []hostile.Program) {
	t.Helper()
	progs, err := hostile.All()
	require.NoError(t, err)
	subs := filepath.Join(root, "submissions")
	for _, p := range progs {
		dir := filepath.Join(subs, p.Name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		_, err := p.Write(dir, "udp-server.py", hostPort)
		require.NoError(t, err)
	}
	return subs, progs
}

// TestHostileClass grades the hostile corpus with `netgrade batch` in
// every sandbox: every student gets a verdict on every check (no error,
// nobody left "not graded"), the limits that stop a program are named,
// nothing is left running, the setsid daemon never outlives its check,
// and (netns, docker) nothing is written outside the scratch space and
// the host's loopback is never reached. Every file the batch writes
// parses and holds the hostile output as inert text.
func TestHostileClass(t *testing.T) {
	for _, kind := range sandbox.Kinds() {
		t.Run(kind, func(t *testing.T) {
			extra := needSandbox(t, kind)
			root := t.TempDir()
			home, tmp := filepath.Join(root, "home"), filepath.Join(root, "tmp")
			require.NoError(t, os.Mkdir(home, 0o755))
			require.NoError(t, os.Mkdir(tmp, 0o755))
			host := sandboxtest.ListenLoopback(t)
			subs, progs := hostileClass(t, root, host.Port)
			escapes := hostile.EscapePaths(filepath.Join(subs, "write-outside"), home)
			for _, p := range escapes {
				t.Cleanup(func() { os.Remove(p) })
			}
			out := filepath.Join(root, "out")

			courseFile := filepath.Join(root, "course.yaml")
			require.NoError(t, os.WriteFile(courseFile, []byte(hostileCourse), 0o644))
			args := append([]string{"batch", subs, "-o", out, "-j", "4", "--sandbox", kind, "--course", courseFile, "--verbose"}, extra...)
			env := append(os.Environ(), "HOME="+home, "TMPDIR="+tmp)
			begin := time.Now()
			res := clitest.RunEnv(20*time.Minute, env, netgradeBin, args...)
			ended := time.Now()
			t.Logf("%d hostile students, --sandbox %s: %s\n%s", len(progs), kind, ended.Sub(begin).Round(100*time.Millisecond), res.Stderr())
			res.Assert(t, clitest.Expected{ExitCode: 0, Out: fmt.Sprintf("Graded %d students", len(progs))})
			assert.Contains(t, res.Stderr(), "contain", "--verbose says how programs are contained")

			// Nothing left running, in any sandbox.
			assert.True(t, sandboxtest.WaitNoProcessWith(t, subs, 30*time.Second), "a hostile program is left running")
			if kind == sandbox.Docker {
				sandboxtest.AssertNoContainersLabelled(t, sandbox.LabelOut+"="+out)
			}

			recs, err := batch.ReadRecords(out)
			require.NoError(t, err)
			require.Len(t, recs, len(progs))
			for _, r := range recs {
				require.Len(t, r.Results, 1, r.Student)
				res := r.Results[0]
				assert.Empty(t, res.IDs(report.Error), "student %s: no check in error", r.Student)
				assert.NotEmpty(t, res.Checks, r.Student)
				assert.NotEmpty(t, res.Containment, "student %s: the result says how programs were contained", r.Student)
				exits := exitsOf(res)
				switch r.Student {
				case "endless-output":
					assert.Contains(t, exits, "output limit", "the output limit is named")
				case "memory-hog":
					assert.Contains(t, exits, "memory", "the memory limit is named")
				case "fork-bomb":
					if kind == sandbox.Docker {
						assert.Contains(t, exits, "processes and threads at once", "the container's process limit is named")
					}
				case "ignores-signals":
					assert.Contains(t, exits, "SIGKILL")
				}
			}

			daemonLog := filepath.Join(tmp, hostile.DaemonLog)
			if kind == sandbox.Process {
				checkDaemonLog(t, daemonLog, recs, ended)
				// The process sandbox isolates nothing: the program wrote
				// where its user may, and reached the host's loopback.
				for _, p := range escapes {
					assert.FileExists(t, p, "the process sandbox cannot stop a write its user may make")
				}
				host.ExpectConnection(t, "reach-host escaped over TCP")
			} else {
				assert.NoFileExists(t, daemonLog, "the daemon wrote outside the unit's scratch space")
				for _, p := range escapes {
					assert.NoFileExists(t, p, "the program wrote outside its scratch space")
				}
				host.ExpectNone(t, quiet)
			}
			checkBatchFiles(t, out, recs)
		})
	}
}

// exitsOf joins how the programs of every check of a result ended.
func exitsOf(res report.Result) string {
	var b strings.Builder
	for _, c := range res.Checks {
		b.WriteString(c.Exit + "\n")
		for _, e := range c.Transcript {
			if e.Kind == report.EvExit {
				b.WriteString(e.Data + "\n")
			}
		}
	}
	return b.String()
}

// checkDaemonLog checks what the setsid daemon wrote in the process
// sandbox: at most one daemon per check, none writing after the batch
// ended, and none writing still.
func checkDaemonLog(t *testing.T, log string, recs []*batch.Record, ended time.Time) {
	t.Helper()
	before, err := os.ReadFile(log)
	require.NoError(t, err, "the daemon ran and wrote its log")
	var checks int
	for _, r := range recs {
		if r.Student == "setsid-daemon" {
			checks = len(r.Results[0].Checks)
		}
	}
	starts := 0
	for _, l := range strings.Split(strings.TrimSpace(string(before)), "\n") {
		f := strings.Fields(l)
		require.Len(t, f, 3, "log line %q", l)
		if f[0] == "start" {
			starts++
		}
		at, err := strconv.ParseFloat(f[2], 64)
		require.NoError(t, err)
		assert.LessOrEqual(t, at, float64(ended.UnixMilli())/1000, "the daemon wrote after the batch ended: %q", l)
	}
	assert.LessOrEqual(t, starts, checks, "at most one daemon per check")
	assert.Positive(t, starts)
	time.Sleep(quiet) // a negative window: a live daemon would write again
	after, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "a daemon still writes after the batch ended")
}

// checkBatchFiles parses what a batch wrote and checks that the hostile
// output is in it only as text.
func checkBatchFiles(t *testing.T, out string, recs []*batch.Record) {
	t.Helper()
	var summary map[string]any
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &summary))
	data, err = os.ReadFile(filepath.Join(out, "grades.csv"))
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, len(recs)+1)
	pages := []string{filepath.Join(out, "report.html"), filepath.Join(out, "similarity.html")}
	for _, r := range recs {
		pages = append(pages, batch.PagePath(out, r.Student))
	}
	for _, p := range pages {
		checkInertHTML(t, p)
	}
}

// checkInertHTML parses an HTML page and checks that no hostile markup
// became an element or an attribute, and that no raw control byte is in
// it.
func checkInertHTML(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, d := range rawDanger {
		assert.NotContains(t, string(data), d, "%s holds %q raw", path, d)
	}
	doc, err := html.Parse(bytes.NewReader(data))
	require.NoError(t, err, path)
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		for _, a := range n.Attr {
			assert.False(t, strings.HasPrefix(a.Key, "on"), "%s: <%s %s=...> from a program's output", path, n.Data, a.Key)
		}
		if n.Data == "script" && n.FirstChild != nil {
			assert.NotContains(t, n.FirstChild.Data, "alert(", "%s: a program's script became a script", path)
		}
		assert.NotEqual(t, "testcase", n.Data, "%s: a program's XML became an element", path)
	}
}

// TestCheckAsNonRootLeavesNothing runs `netgrade check` as an unprivileged
// user (nobody), as a student does, on a folder holding the double-forking
// program: no cgroup can be made, netgrade is the subreaper of the setsid
// daemon, and nothing is left running afterwards.
func TestCheckAsNonRootLeavesNothing(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("SKIPPED: needs root to become another user (as a normal user, the other tests show it already)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("SKIPPED: setpriv not found (%v): cannot run netgrade as another user", err)
	}
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("SKIPPED: no %s for the unprivileged user: %v", python, err)
	}
	// Everything nobody needs must be readable by it: a folder of its own.
	root, err := os.MkdirTemp("", "netgrade-nobody-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	require.NoError(t, os.Chmod(root, 0o777))
	bin := filepath.Join(root, "netgrade")
	data, err := os.ReadFile(netgradeBin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	dir := filepath.Join(root, "student")
	require.NoError(t, os.Mkdir(dir, 0o777))
	prog, err := hostile.Get("setsid-daemon")
	require.NoError(t, err)
	_, err = prog.Write(dir, "udp-server.py", 0)
	require.NoError(t, err)

	res := clitest.RunEnv(5*time.Minute, []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + root, "TMPDIR=" + root, "LANG=C.UTF-8"},
		setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "check", "--verbose", dir)
	t.Logf("as nobody:\n%s", res.Stderr())
	res.Assert(t, clitest.Expected{ExitCode: exitFailed})
	assert.Contains(t, res.Stderr(), "subreaper", "--verbose names the containment")

	assert.True(t, sandboxtest.WaitNoProcessWith(t, dir, 10*time.Second), "a process of the program is left running")
	log := filepath.Join(root, hostile.DaemonLog)
	before, err := os.ReadFile(log)
	require.NoError(t, err, "the daemon ran")
	time.Sleep(quiet) // a negative window: a live daemon would write again
	after, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "a daemon still writes after netgrade check ended")
}

// exitFailed is netgrade's exit code when checks failed.
const exitFailed = 1
