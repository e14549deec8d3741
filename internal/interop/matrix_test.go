package interop_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest/hostile"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// bin is a static netgrade, the pair runner of the netns and docker
// sandboxes.
var bin string

func TestMain(m *testing.M) { sandboxtest.Main(m, &bin) }

// exercises of the matrices, in the order of a student's files below.
var exercises = []string{"udp-client", "udp-server", "tcp-client", "tcp-server", "tcp-upper"}

// classStudent is a student of a test class: a fixture (or a hostile
// program, "hostile:NAME") per exercise, "" for a file not handed in, and
// the cell each side must get against the reference ("verdict/diagnosis").
type classStudent struct {
	id    string
	files [5]string
	// vsRef is, per exercise, what the cell with the reference must say;
	// upperClient, when set, is what the tcp-client's cell with the
	// reference tcp-upper must say, when it differs from tcp-server's.
	vsRef       [5]string
	upperClient string
}

// smallClass: correct programs, the usual culprits, programs that cannot
// run, and hostile ones (a setsid daemon, output that attacks the page).
var smallClass = []classStudent{
	{"ana", [5]string{"plain.py", "plain.py", "plain.py", "plain.py", "course.py"},
		[5]string{"green/", "green/", "green/", "green/", "green/"}, ""},
	{"ben", [5]string{"latin1_encode.py", "bytes_message.py", "bytes_print.py", "latin1_decode.py", "lower.py"},
		[5]string{"amber/latin1-client", "amber/server-bytes", "amber/client-bytes", "amber/latin1-server", "amber/not-upper"}, ""},
	{"cleo", [5]string{"waits_reply.py", "hardcoded_port.py", "recv_until_eof.py", "reads_to_eof.py", "latin1.py"},
		[5]string{"amber/waits-reply", "red/other-port", "amber/waits-close", "amber/waits-eof", "amber/reply-not-utf8"},
		// The reference tcp-upper closes after its reply: a client that
		// reads until the server closes ends.
		"green/"},
	{"dan", [5]string{"indentation_error.py", "indentation_error.py", "connects_only.py", "hardcoded_port.py", "keeps_open.py"},
		[5]string{"grey/client-no-start", "grey/server-no-start", "red/nothing-sent", "red/other-port", "green/"}, ""},
	{"eve", [5]string{"first_word.py", "hostile:setsid-daemon", "create_connection.py", "socketserver_server.py", "plain_socket.py"},
		[5]string{"amber/part-message", "green/", "green/", "green/", "green/"}, ""},
	{"fay", [5]string{"utf16.py", "hostile_output.py", "", "", ""},
		[5]string{"amber/utf16-client", "amber/log-format", "", "", ""}, ""},
}

// writeClass writes the students' files under dir (course file names) and
// returns the matrix's students.
func writeClass(t testing.TB, dir string, class []classStudent) []interop.Student {
	t.Helper()
	all, err := fixtures.All()
	assert.NilError(t, err)
	source := func(ex, name string) []byte {
		if h, ok := strings.CutPrefix(name, "hostile:"); ok {
			p, err := hostile.Get(h)
			assert.NilError(t, err)
			return p.Source(0)
		}
		for _, f := range all {
			if f.ID() == ex+"/"+name {
				return ownPort(f.Source)
			}
		}
		t.Fatalf("no fixture %s/%s", ex, name)
		return nil
	}
	var out []interop.Student
	for _, s := range class {
		st := interop.Student{ID: s.id, Dir: filepath.Join(dir, s.id), Files: map[string]string{}, Own: map[string]string{}}
		assert.NilError(t, os.MkdirAll(st.Dir, 0o755))
		for i, ex := range exercises {
			if s.files[i] == "" {
				continue
			}
			assert.NilError(t, os.WriteFile(filepath.Join(st.Dir, ex+".py"), source(ex, s.files[i]), 0o644))
			st.Files[ex] = ex + ".py"
		}
		out = append(out, st)
	}
	return out
}

// verdicts maps "pair client server" to "verdict/diagnosis".
func verdicts(ms []*interop.Matrix) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for _, c := range m.Cells {
			out[m.Pair.ID()+" "+c.Client+" "+c.Server] = string(c.Verdict) + "/" + c.Diagnosis
		}
	}
	return out
}

// leftBehind lists the processes still running a file of dir.
func leftBehind(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	assert.NilError(t, err)
	var out []string
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(dir)) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

func runMatrix(t *testing.T, sb sandbox.Sandbox, students []interop.Student, out string, pairs []interop.ExercisePair) *interop.Result {
	t.Helper()
	res, err := interop.Run(context.Background(), students, interop.Options{
		Out: out, Pairs: pairs, Sandbox: sb, Env: env, Jobs: 8, Version: "test",
		LogLine: `[{asctime}] client {ip} sent "{message}"`,
	})
	assert.NilError(t, err)
	assert.Assert(t, !res.Interrupted)
	return res
}

// TestMatrix runs a small class's three matrices in the process sandbox:
// each student's mistake shows in their row or column against the
// reference, with its diagnosis; a side that cannot run is grey in its
// whole row or column; nothing is left running; the outputs hold every
// cell; and a second run reuses every cell and gives the same matrices.
func TestMatrix(t *testing.T) {
	subs, out := t.TempDir(), t.TempDir()
	students := writeClass(t, subs, smallClass)
	sb := sandbox.NewProcess(nil, nil)
	res := runMatrix(t, sb, students, out, nil)
	got := verdicts(res.Matrices)
	assert.Assert(t, is.Len(leftBehind(t, subs), 0), "nothing of the class is left running")

	for _, m := range res.Matrices {
		ci, si := indexOf(m.Pair.Client), indexOf(m.Pair.Server)
		for _, s := range smallClass {
			want := s.vsRef[ci]
			if m.Pair.Server == "tcp-upper" && s.upperClient != "" {
				want = s.upperClient
			}
			if want != "" {
				assert.Equal(t, got[m.Pair.ID()+" "+s.id+" "+interop.RefKey], want, "%s: %s's client against the reference server: %s", m.Pair, s.id, reasonOf(m, s.id, interop.RefKey))
			}
			if want = s.vsRef[si]; want != "" {
				assert.Equal(t, got[m.Pair.ID()+" "+interop.RefKey+" "+s.id], want, "%s: the reference client against %s's server: %s", m.Pair, s.id, reasonOf(m, interop.RefKey, s.id))
			}
		}
		// Correct programs understand each other.
		assert.Equal(t, got[m.Pair.ID()+" ana ana"], "green/", m.Pair.String())
	}
	udp := res.Matrices[0]
	for _, c := range udp.Cells {
		if c.Client == "dan" {
			assert.Equal(t, c.Verdict, interop.Grey, "dan's client cannot run: grey against %s", c.Server)
		}
		if c.Server == "dan" {
			assert.Equal(t, c.Verdict, interop.Grey, "dan's server cannot run: grey against %s", c.Client)
		}
	}
	assert.DeepEqual(t, res.Matrices[1].MissingClients, []string{"fay"})

	// The outputs.
	sum := interop.Summarize("process", res.Matrices, nil)
	assert.NilError(t, interop.WriteFiles(out, res.Matrices, sum, "test"))
	data, err := os.ReadFile(filepath.Join(out, interop.CSVFile))
	assert.NilError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	assert.NilError(t, err)
	cells := 0
	for _, m := range res.Matrices {
		cells += len(m.Cells)
	}
	assert.Equal(t, len(rows), cells+1, "a header and a row per cell")
	page, err := os.ReadFile(filepath.Join(out, interop.HTMLFile))
	assert.NilError(t, err)
	assert.Assert(t, !bytes.Contains(page, []byte("<script>alert")), "a student's output never becomes markup")
	lines := interop.StudentLines("ben", res.Matrices)
	assert.Assert(t, is.Len(lines, 6))
	assert.Assert(t, is.Contains(lines[1], "your udp-client was understood by 0 of"), lines[1])
	assert.Assert(t, is.Contains(lines[1], interop.Diagnoses["latin1-client"]), lines[1])

	// Again: every cell reused, the same matrices.
	again := runMatrix(t, sb, students, out, nil)
	assert.Equal(t, again.Ran, 0)
	assert.DeepEqual(t, verdicts(again.Matrices), got)
}

func indexOf(ex string) int {
	for i, e := range exercises {
		if e == ex {
			return i
		}
	}
	return -1
}

func reasonOf(m *interop.Matrix, client, server string) string {
	if c := m.Cell(client, server); c != nil {
		return fmt.Sprintf("%s (%s)", c.Reason, strings.Join(c.ServerLog, " | "))
	}
	return "no such cell"
}

// TestMatrixSandboxes runs one class in the process, netns and docker
// sandboxes: the same matrix in each, nothing left behind; in netns and
// docker, a hostile server that tries to reach the host's loopback reaches
// nothing and changes no other cell.
func TestMatrixSandboxes(t *testing.T) {
	class := []classStudent{smallClass[0], smallClass[1], smallClass[4]}
	pairs := interop.Pairs()[:2]
	subs := t.TempDir()
	students := writeClass(t, subs, class)
	var want map[string]string
	sandboxtest.Each(t, bin, func() sandbox.Sandbox { return sandbox.NewProcess(nil, nil) }, func(t *testing.T, kind string, sb sandbox.Sandbox) {
		defer sb.Close()
		box, isDocker := sb.(*sandboxtest.DockerBox)
		if isDocker {
			sb = box.Sandbox // the sandbox itself, which runs pairs
		}
		res := runMatrix(t, sb, students, t.TempDir(), pairs)
		got := verdicts(res.Matrices)
		if want == nil {
			want = got
		}
		assert.DeepEqual(t, got, want)
		assert.Assert(t, is.Len(leftBehind(t, subs), 0), "nothing of the class is left running")
		if isDocker {
			sandboxtest.AssertNoContainers(t, box.RunID)
		}
		if kind == sandbox.Process {
			return
		}
		// A hostile server that tries the host's loopback.
		ln := sandboxtest.ListenLoopback(t)
		p, err := hostile.Get("reach-host")
		assert.NilError(t, err)
		hsubs := t.TempDir()
		hs := writeClass(t, hsubs, class)
		hdir := filepath.Join(hsubs, "zed")
		assert.NilError(t, os.MkdirAll(hdir, 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(hdir, "udp-server.py"), p.Source(ln.Port), 0o644))
		hs = append(hs, interop.Student{ID: "zed", Dir: hdir, Files: map[string]string{"udp-server": "udp-server.py"}})
		hres := runMatrix(t, sb, hs, t.TempDir(), pairs)
		hgot := verdicts(hres.Matrices)
		for k, v := range want {
			assert.Equal(t, hgot[k], v, "cell %s changed beside a hostile server", k)
		}
		ln.ExpectNone(t, 500*time.Millisecond)
		assert.Assert(t, is.Len(leftBehind(t, hsubs), 0), "nothing of the class is left running")
	})
}

// cancelWriter cancels a context at the first progress line.
type cancelWriter struct{ cancel context.CancelFunc }

func (w cancelWriter) Write(p []byte) (int, error) { w.cancel(); return len(p), nil }

// TestResume interrupts a matrix after its first cell: the run says so,
// and the next run reuses the cells done and runs only the others.
func TestResume(t *testing.T) {
	subs, out := t.TempDir(), t.TempDir()
	students := writeClass(t, subs, smallClass[:2])
	pairs := interop.Pairs()[:1]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := interop.Options{Out: out, Pairs: pairs, Sandbox: sandbox.NewProcess(nil, nil), Env: env, Jobs: 1, Version: "test",
		LogLine: `[{asctime}] client {ip} sent "{message}"`, Progress: cancelWriter{cancel}}
	first, err := interop.Run(ctx, students, opt)
	assert.NilError(t, err)
	assert.Assert(t, first.Interrupted)
	assert.Assert(t, first.Ran >= 1 && first.Ran < 8, "ran %d of 8 cells before the interruption", first.Ran)
	opt.Progress = nil
	again, err := interop.Run(context.Background(), students, opt)
	assert.NilError(t, err)
	assert.Assert(t, !again.Interrupted)
	assert.Equal(t, again.Reused, first.Ran, "the cells done are reused")
	assert.Equal(t, again.Ran+again.Reused, 8)
	for _, c := range again.Matrices[0].Cells {
		assert.Assert(t, c.Verdict != "", "cell %s × %s has a verdict", c.Client, c.Server)
	}
}
