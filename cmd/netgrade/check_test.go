package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI runs netgrade with args and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// fixture returns the source of a fixture.
func fixture(t *testing.T, exercise, name string) []byte {
	t.Helper()
	fs, err := fixtures.For(exercise)
	require.NoError(t, err)
	for _, f := range fs {
		if f.Name == name {
			return f.Source
		}
	}
	t.Fatalf("no fixture %s/%s", exercise, name)
	return nil
}

// passingFolder writes, under the default course's file names, a passing
// fixture of every exercise this netgrade grades, and returns the folder
// and the exercises written.
func passingFolder(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	cs, err := coursefile.Parse(course.DefaultName, course.YAML(), course.Registry())
	require.NoError(t, err)
	var ids []string
	for _, e := range cs.Exercises {
		if e.Grader == nil {
			continue
		}
		fs, err := fixtures.For(e.ID)
		require.NoError(t, err)
		for _, f := range fs {
			if f.Pass && len(f.Requires) == 0 { // python3 runs the folder: no framework
				require.NoError(t, os.WriteFile(filepath.Join(dir, e.File), f.Source, 0o644))
				ids = append(ids, e.ID)
				break
			}
		}
	}
	require.True(t, len(ids) >= 2, "passing fixtures for %v", ids)
	return dir, ids
}

// summaryRow returns the line of the summary table for an exercise.
func summaryRow(t *testing.T, out, exercise string) string {
	t.Helper()
	_, table, ok := strings.Cut(out, "\nSummary\n")
	require.True(t, ok, "no summary table in:\n%s", out)
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == exercise {
			return l
		}
	}
	t.Fatalf("no summary row for %s in:\n%s", exercise, table)
	return ""
}

func TestCheckPassingFolder(t *testing.T) {
	dir, ids := passingFolder(t)
	code, out, errs := runCLI(t, "check", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errs)
	for _, id := range ids {
		row := summaryRow(t, out, id)
		require.Contains(t, row, "all checks pass", row)
	}
	// Every exercise of the course is listed, graded or missing.
	cs, _ := coursefile.Parse(course.DefaultName, course.YAML(), course.Registry())
	for _, e := range cs.Exercises {
		summaryRow(t, out, e.ID)
	}
	require.Contains(t, out, "graded exercises pass")
}

func TestCheckBrokenFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-server.py"), fixture(t, "udp-server", "tuple_addr.py"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), fixture(t, "udp-client", "plain.py"), 0o644))
	// --quiet is --failures-only: the passing exercise takes one line.
	code, out, _ := runCLI(t, "check", "--quiet", dir)
	require.Equal(t, exitFailed, code)
	row := summaryRow(t, out, "udp-server")
	require.Contains(t, row, "udp-server.py")
	require.Contains(t, row, "log-format")
	require.Contains(t, out, "First to fix: udp-server/log-format")
	require.Contains(t, summaryRow(t, out, "udp-client"), "all checks pass")
	require.Regexp(t, `(?m)^✔ udp-client — UDP client  \S*udp-client.py  8/8: all \d+ checks pass$`, out)
	require.NotContains(t, out, "✔ udp-client/sends-message", "a passing exercise's checks are not listed one by one")
	require.Contains(t, out, "✔ udp-server/starts", "a failing exercise is reported in full")
}

// TestCheckHelp: check's help lists every exit status it can end with.
func TestCheckHelp(t *testing.T) {
	code, out, _ := runCLI(t, "check", "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"0 when every exercise", "1 when a check fails", "2 when", "3 when\nnetgrade itself", "--failures-only"} {
		require.Contains(t, out, want)
	}
}

// TestCheckMistypedExercise: a mistyped exercise gets the closest one
// suggested, and the exercises listed in course order.
func TestCheckMistypedExercise(t *testing.T) {
	code, _, errs := runCLI(t, "check", "udp-srever", t.TempDir())
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `the course has no exercise "udp-srever" (did you mean udp-server?); its exercises: udp-server, udp-client, tcp-server`)
	code, _, errs = runCLI(t, "check", "udp-srever")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `(did you mean udp-server?)`)
}

func TestCheckOneExerciseAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-client.py"), fixture(t, "udp-client", "plain.py"), 0o644))

	code, out, errs := runCLI(t, "check", "udp-client", dir)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "udp-client — UDP client")
	require.NotContains(t, out, "udp-server", "only the exercise asked for")

	// The whole folder: udp-server.py is missing, and said to be.
	code, out, _ = runCLI(t, "check", dir)
	require.Equal(t, exitOK, code)
	require.Contains(t, summaryRow(t, out, "udp-server"), "missing")
	require.Contains(t, out, "Missing files: "+filepath.Join(dir, "udp-server.py"))

	// Asking for an exercise whose file is missing is refused.
	code, _, errs = runCLI(t, "check", "udp-server", dir)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "no file udp-server.py in "+dir)
}

func TestCheckNothingToCheck(t *testing.T) {
	code, _, errs := runCLI(t, "check", t.TempDir())
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "found no exercise file")
	require.Contains(t, errs, "udp-server.py, udp-client.py")

	code, _, errs = runCLI(t, "check", "no-such-thing")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `"no-such-thing" is neither an exercise of the course`)
}

// TestCheckWatch drives --watch: a first grade, then a regrade after the
// file is replaced by a broken one, then after it is fixed again.
func TestCheckWatch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "udp-client.py")
	require.NoError(t, os.WriteFile(file, fixture(t, "udp-client", "plain.py"), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"check", "--watch", "udp-client", dir}, &out, &errb) }()

	waitFor := func(what string, cond func(string) bool) {
		t.Helper()
		ended := -1
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			select {
			case ended = <-done:
				return
			default:
			}
			assert.True(c, cond(out.String()), "waiting for %s; output so far:\n%s", what, out.String())
		}, 60*time.Second, 50*time.Millisecond)
		require.Equal(t, -1, ended, "netgrade ended before %s:\n%s\n%s", what, out.String(), errb.String())
	}
	waitFor("the first check", func(s string) bool {
		return strings.Contains(s, "first check") && strings.Contains(s, "Watching ")
	})
	require.Contains(t, out.String(), "Score: 8/8")

	// Save a broken version, as an editor does: a new file renamed over it.
	tmp := filepath.Join(dir, ".udp-client.py.swp")
	require.NoError(t, os.WriteFile(tmp, fixture(t, "udp-client", "never_sends.py"), 0o644))
	require.NoError(t, os.Rename(tmp, file))
	waitFor("the regrade of the broken file", func(s string) bool {
		return strings.Count(s, "Watching ") == 2
	})
	second := out.String()[strings.LastIndex(out.String(), "netgrade check --watch:"):]
	require.Contains(t, second, "udp-client.py changed at")
	require.Contains(t, second, "First to fix: udp-client/datagram")

	// Fix it in place.
	require.NoError(t, os.WriteFile(file, fixture(t, "udp-client", "plain.py"), 0o644))
	waitFor("the regrade of the fixed file", func(s string) bool {
		return strings.Count(s, "Watching ") == 3
	})
	third := out.String()[strings.LastIndex(out.String(), "netgrade check --watch:"):]
	require.Contains(t, third, "Score: 8/8")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitOK, code)
	case <-time.After(30 * time.Second):
		t.Fatal("netgrade check --watch did not stop when its context ended")
	}
}

func TestMalformedCourseFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "course.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("exercises:\n  - id: udp-server\n    file: udp-server.py\n    checks:\n      usage: {points: two}\n"), 0o644))
	for _, args := range [][]string{
		{"check", "--course", bad, dir},
		{"grade", "--course", bad, "udp-server", "x.py"},
		{"gradescope", "--course", bad, "--submission", dir, "--results", filepath.Join(dir, "r.json")},
		{"course", "check", bad},
	} {
		code, _, errs := runCLI(t, args...)
		require.Equal(t, exitUsage, code, "%v", args)
		require.Contains(t, errs, bad+":5:23: points must be a number, not a string", "%v", args)
	}
	code, out, _ := runCLI(t, "course", "show")
	require.Equal(t, exitOK, code)
	require.Equal(t, string(course.YAML()), out)
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, course.YAML(), 0o644))
	code, out, _ = runCLI(t, "course", "check", good)
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "valid course file (Network programming with Python)")
}

// TestCourseChangesGrading shows that a course file reaches the grading:
// other file names, points, a check turned off and a text of its own.
func TestCourseChangesGrading(t *testing.T) {
	dir := t.TempDir()
	src := string(fixture(t, "udp-server", "plain.py"))
	src = strings.Replace(src, `f"Started server on UDP/{port}"`, `f"Server ready on {port}"`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "server.py"), []byte(src), 0o644))
	crs := filepath.Join(dir, "course.yaml")
	require.NoError(t, os.WriteFile(crs, []byte(`exercises:
  - id: udp-server
    file: server.py
    texts:
      start_line: "Server ready on {port}"
    checks:
      usage: {points: 5}
      timestamp: {enabled: false}
`), 0o644))
	code, out, errs := runCLI(t, "check", "--course", crs, "--format", "json", dir)
	require.Equal(t, exitOK, code, "%s\n%s", out, errs)
	require.Contains(t, out, `"max_score": 15`)
	require.NotContains(t, out, "udp-server/timestamp")
	// Under the default course the same file fails the start line.
	code, _, _ = runCLI(t, "grade", "udp-server", filepath.Join(dir, "server.py"), "--check", "udp-server/starts,udp-server/start-line")
	require.Equal(t, exitFailed, code)
}

// TestCheckFindsFilesAsBatchDoes: `netgrade check` finds a student's files
// with the batch's finder (in a sub-folder, under a name the course's
// patterns take, without regard to case) and says what it did not grade:
// another copy of an exercise, files of no exercise.
func TestCheckFindsFilesAsBatchDoes(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"python/UDP-Client.py":         fixture(t, "udp-client", "plain.py"),
		"python/old/udp_client.py":     fixture(t, "udp-client", "plain.py"),
		"python/socket_server.py":      []byte("import socketserver\n"),
		"python/notes.txt":             []byte("todo\n"),
		"net-python/udp-client-old.py": []byte("print('old')\n"),
	}
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
	code, out, errs := runCLI(t, "check", dir)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, summaryRow(t, out, "udp-client"), filepath.Join(dir, "python", "UDP-Client.py"))
	require.Contains(t, errs, "netgrade: udp-client: graded python/UDP-Client.py; also found: python/old/udp_client.py\n")
	require.Contains(t, errs, "netgrade: handed in, not graded: net-python/udp-client-old.py, python/socket_server.py\n")
	require.NotContains(t, errs, "notes.txt", "only source files")

	// Nothing the course names: the files handed in are named.
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "server.py"), []byte("import socket\n"), 0o644))
	code, _, errs = runCLI(t, "check", empty)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "handed in, not graded: server.py (rename your file, or give its name to the exercise's `file:` in a course file)")
}

// TestCourseGuess: `netgrade course guess` writes a course file that
// `netgrade course check` accepts, names a corrupt archive among what it
// could not place, and refuses a command line without a class.
func TestCourseGuess(t *testing.T) {
	class := t.TempDir()
	files := map[string][]byte{
		"ana/server.py":     fixture(t, "udp-server", "plain.py"),
		"ben/tcp/server.py": []byte("import socket\ns = socket.socket()\ns.bind(('', 5000))\ns.listen()\nc, a = s.accept()\n"),
		"ben/udp/server.py": fixture(t, "udp-server", "plain.py"),
		"cid.zip":           []byte("not a zip"),
	}
	for p, data := range files {
		full := filepath.Join(class, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
	code, out, errs := runCLI(t, "course", "guess", class)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "  - id: udp-server\n    # server.py takes: ana/server.py, ben/udp/server.py\n    file: [udp-server.py, server.py, udp/server.py]\n")
	require.Contains(t, out, "  - id: tcp-server\n    # tcp/server.py takes: ben/tcp/server.py\n    file: [tcp-server.py, tcp/server.py]\n")
	require.Contains(t, out, "#   cid/cid.zip: bad archive: cid.zip cannot be read as a zip archive")
	require.Contains(t, errs, "3 source files of 3 students: 3 read as an exercise, 3 taken by the names proposed above.")

	path := filepath.Join(t.TempDir(), "course.yaml")
	require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
	code, _, errs = runCLI(t, "course", "check", path)
	require.Equal(t, exitOK, code, errs)

	code, _, errs = runCLI(t, "course", "guess")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "give the folder of the class")
}
