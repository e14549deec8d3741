// Package e2e runs `netgrade batch` and `netgrade merge` as a user does: a
// netgrade binary, a folder of generated students, real gradings in every
// sandbox, Ctrl-C in the middle.
package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/batch/batchtest"
	"github.com/netgrade/netgrade/internal/clitest"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netgradeBin is netgrade built static (CGO_ENABLED=0), as the docker
// sandbox needs it.
var netgradeBin string

func TestMain(m *testing.M) { sandboxtest.Main(m, &netgradeBin) }

// class generates n students in a fresh folder and returns it.
func class(t *testing.T, n int) (string, []batchtest.Student) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "submissions")
	students, err := batchtest.Generate(dir, n, classExercises(t))
	require.NoError(t, err)
	return dir, students
}

// netgrade runs the binary and returns the result.
func netgrade(t *testing.T, args ...string) *clitest.Result {
	t.Helper()
	if len(args) > 0 && args[0] == "batch" && !slices.Contains(args, "--exercise") {
		args = append(args, "--exercise", strings.Join(classIDs, ","))
	}
	return clitest.RunTimeout(20*time.Minute, netgradeBin, args...)
}

// classIDs are the exercises of the generated classes: both UDP
// exercises and one TCP one, enough to show every batch behaviour while
// keeping a 60-student class in three sandboxes to minutes.
var classIDs = []string{"udp-server", "udp-client", "tcp-upper"}

// classExercises returns the exercises of classIDs.
func classExercises(t testing.TB) []*graders.Exercise {
	t.Helper()
	var exs []*graders.Exercise
	for _, id := range classIDs {
		ex, err := course.Registry().Get(id)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, ex)
	}
	return exs
}

// needSandbox skips (or fails when required) a test of a sandbox this
// machine lacks.
func needSandbox(t *testing.T, kind string) []string {
	t.Helper()
	switch kind {
	case sandbox.Netns:
		sandboxtest.Netns(t, netgradeBin)
	case sandbox.Docker:
		d := sandboxtest.Docker(t, netgradeBin)
		d.Close()
		return []string{"--image", sandboxtest.Image()}
	}
	return nil
}

// verdicts reads every student's per-check statuses from a batch output.
func verdicts(t *testing.T, out string) map[string]map[string]report.Status {
	t.Helper()
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	v := map[string]map[string]report.Status{}
	for _, r := range recs {
		m := map[string]report.Status{}
		for _, res := range r.Results {
			for _, c := range res.Checks {
				m[c.ID] = c.Status
			}
		}
		v[r.Student] = m
	}
	return v
}

// batchDone is how a batch of the students ends: exit status 0, or 4 when
// one of them cannot be graded properly.
func batchDone(students []batchtest.Student) clitest.Expected {
	if batchtest.AnyBroken(students) {
		return clitest.Expected{ExitCode: 4, Out: "could not be graded properly"}
	}
	return clitest.Success
}

// checkDeclared checks every student's failed checks against what their
// fixtures declare, the exercises not handed in and the submissions that
// cannot be graded properly, and that netgrade erred nowhere.
func checkDeclared(t *testing.T, out string, students []batchtest.Student) {
	t.Helper()
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	require.Len(t, recs, len(students))
	byID := map[string]*batch.Record{}
	for _, r := range recs {
		byID[r.Student] = r
	}
	for _, s := range students {
		r := byID[s.ID]
		require.NotNil(t, r, "student %s has a record", s.ID)
		for _, res := range r.Results {
			assert.Empty(t, res.IDs(report.Error), "student %s, %s", s.ID, res.Exercise)
			if !assert.Equal(t, s.Fails[res.Exercise], res.IDs(report.Fail), "student %s, %s (fixture %s)", s.ID, res.Exercise, s.Fixtures[res.Exercise]) {
				// What the report says of each failure, for the cause.
				for _, c := range res.Checks {
					if c.Status == report.Fail {
						t.Logf("%s: %s (expected %q, got %q)", c.ID, c.Message, c.Expected, c.Actual)
					}
				}
			}
			assert.Equal(t, s.Missing[res.Exercise], res.Missing, "student %s, %s: not handed in", s.ID, res.Exercise)
		}
		assert.Equal(t, s.Broken, r.Problem != "", "student %s: a submission that cannot be graded properly is said to be (%q)", s.ID, r.Problem)
	}
}

func TestBatchCommand(t *testing.T) {
	subs, students := class(t, 6)
	out := filepath.Join(t.TempDir(), "out")
	res := netgrade(t, "batch", subs, "-o", out, "-j", "6", "--sandbox", "process")
	res.Assert(t, clitest.Expected{ExitCode: 0, Out: "Graded 6 students"})
	assert.Contains(t, res.Stderr(), "the process sandbox isolates nothing")
	assert.Contains(t, res.Stderr(), "[6/6]", "plain progress lines when not on a terminal")
	checkDeclared(t, out, students)

	rows := readCSV(t, filepath.Join(out, "grades.csv"))
	assert.Equal(t, append(append([]string{"student"}, classIDs...), "total", "not_graded"), rows[0])
	assert.Len(t, rows, 7)
	for _, f := range []string{"summary.json", "report.html", "similarity.html", "similarity.csv"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	for _, s := range students {
		assert.FileExists(t, batch.PagePath(out, s.ID))
	}
	assert.Contains(t, res.Stdout(), "Similarity: ")

	t.Run("again: nothing to do", func(t *testing.T) {
		res := netgrade(t, "batch", subs, "-o", out, "--sandbox", "process")
		res.Assert(t, clitest.Expected{ExitCode: 0, Out: "Graded 0 students"})
		assert.Contains(t, res.Stdout(), "(6 already done)")
	})
	t.Run("usage errors", func(t *testing.T) {
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"batch", subs}, "give the output folder"},
			{[]string{"batch", "-o", out}, "give the folder of submissions"},
			{[]string{"batch", subs, "-o", out, "--sandbox", "vm"}, `unknown sandbox "vm"`},
			{[]string{"batch", subs, "-o", out, "--shard", "4/4"}, "K counts from 0"},
			{[]string{"batch", subs, "-o", out, "--exercise", "nope"}, "unknown exercise"},
			{[]string{"batch", filepath.Join(subs, "nope"), "-o", out}, "no such file"},
			{[]string{"merge", "-o", out}, "give the batch outputs"},
			{[]string{"merge", subs, "-o", out}, "not a netgrade batch output"},
		}
		for _, c := range cases {
			res := netgrade(t, c.args...)
			res.Assert(t, clitest.Expected{ExitCode: 2, Err: c.want})
		}
	})
}

func TestBatchShardsAndMerge(t *testing.T) {
	subs, students := class(t, 6)
	root := t.TempDir()
	var outs []string
	for k := range 2 {
		out := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		netgrade(t, "batch", subs, "-o", out, "--sandbox", "process", "--shard", fmt.Sprintf("%d/2", k)).Assert(t, clitest.Success)
		outs = append(outs, out)
	}
	merged := filepath.Join(root, "merged")
	res := netgrade(t, append(append([]string{"merge"}, outs...), "-o", merged)...)
	res.Assert(t, clitest.Expected{ExitCode: 0, Out: "6 students in " + merged})
	checkDeclared(t, merged, students)
	assert.Len(t, readCSV(t, filepath.Join(merged, "grades.csv")), 7)
	// The merged output keeps every student's files: it can be compared.
	sim := netgrade(t, "similarity", merged)
	sim.Assert(t, clitest.Expected{ExitCode: 0, Out: "Similarity: compared "})
	assert.NotContains(t, sim.Stderr(), "keeps no copy")
}

// readCSV reads a CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestInterruptAndResume runs a batch, interrupts it with SIGINT (as
// Ctrl-C does) once some students are done, checks that nothing is half
// written and nothing is left running, then runs it again and checks that
// only the students not done are graded.
func TestInterruptAndResume(t *testing.T) {
	for _, kind := range []string{sandbox.Netns, sandbox.Docker, sandbox.Process} {
		t.Run(kind, func(t *testing.T) {
			extra := needSandbox(t, kind)
			subs, students := class(t, 10)
			root := filepath.Dir(subs)
			out := filepath.Join(root, "out")
			args := append([]string{"batch", subs, "-o", out, "-j", "2", "--sandbox", kind, "--exercise", strings.Join(classIDs, ",")}, extra...)

			cmd := exec.Command(netgradeBin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.GreaterOrEqual(c, countRecords(t, out), 3, "students done")
			}, 3*time.Minute, 50*time.Millisecond)
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			select {
			case <-waited:
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("netgrade did not stop after SIGINT; stderr:\n%s", stderr.String())
			}
			assert.Equal(t, 3, cmd.ProcessState.ExitCode(), "an interrupted batch exits 3; stderr:\n%s", stderr.String())
			assert.Contains(t, stderr.String(), "interrupted:")
			assert.Contains(t, stderr.String(), "run the same command again")

			firstRecs := records(t, out)
			require.GreaterOrEqual(t, len(firstRecs), 3)
			require.Less(t, len(firstRecs), len(students), "the batch was interrupted before the end")
			for name := range firstRecs {
				rec, err := batch.ReadRecord(filepath.Join(out, "students", name))
				require.NoError(t, err, "every student file is whole")
				assert.True(t, rec.Complete(), name)
			}
			assertClean(t, out)
			// Every graded program's command line holds its file's path
			// under root (in a container, the path is the container's).
			assert.True(t, sandboxtest.WaitNoProcessWith(t, root, 30*time.Second), "no graded program is left running")
			assert.True(t, sandboxtest.WaitNoProcessWith(t, netgradeBin, 30*time.Second), "no unit runner is left running")
			if kind == sandbox.Docker {
				assertNoContainers(t, out)
			}

			// Again, to the end: only those not done are graded.
			res := netgrade(t, args...)
			res.Assert(t, batchDone(students))
			left := len(students) - len(firstRecs)
			assert.Contains(t, res.Stdout(), fmt.Sprintf("Graded %d student", left)) // "1 student", "2 students"
			assert.Contains(t, res.Stdout(), fmt.Sprintf("(%d already done)", len(firstRecs)))
			assert.Contains(t, res.Stderr(), fmt.Sprintf("%d already graded, %d to grade", len(firstRecs), left))
			second := records(t, out)
			assert.Len(t, second, len(students), "nothing lost")
			for name, data := range firstRecs {
				assert.Equal(t, data, second[name], "%s, done before the interruption, is not graded again", name)
			}
			rows := readCSV(t, filepath.Join(out, "grades.csv"))
			seen := map[string]bool{}
			for _, r := range rows[1:] {
				assert.False(t, seen[r[0]], "%s is in the gradebook once", r[0])
				seen[r[0]] = true
			}
			assert.Len(t, seen, len(students), "nothing duplicated, nothing lost")
			checkDeclared(t, out, students)
			assertClean(t, out)
			if kind == sandbox.Docker {
				assertNoContainers(t, out)
			}
		})
	}
}

// countRecords counts the student files written so far.
func countRecords(t *testing.T, out string) int {
	t.Helper()
	return len(records(t, out))
}

// records returns the student JSON files of out, by name.
func records(t *testing.T, out string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, "students"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	m := map[string]string{}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" && !strings.HasPrefix(e.Name(), ".") {
			data, err := os.ReadFile(filepath.Join(out, "students", e.Name()))
			require.NoError(t, err)
			m[e.Name()] = string(data)
		}
	}
	return m
}

// assertClean checks that no temporary file or unpacked archive is left.
func assertClean(t *testing.T, out string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, "students"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "temporary file left")
	}
	assert.NoDirExists(t, filepath.Join(out, ".work"))
}

// assertNoContainers checks that no container of the batch writing out is
// left.
func assertNoContainers(t *testing.T, out string) {
	t.Helper()
	abs, err := filepath.Abs(out)
	require.NoError(t, err)
	sandboxtest.AssertNoContainersLabelled(t, sandbox.LabelOut+"="+abs)
}

// TestBatchUnprivilegedNetns runs a batch in the netns sandbox as an
// ordinary user (nobody), as an instructor without root does: the
// namespaces then come from an unprivileged user namespace. Run by a
// non-root user, the other tests already do this.
func TestBatchUnprivilegedNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: every netns test here already runs unprivileged")
	}
	sandboxtest.Netns(t, netgradeBin)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		sandboxtest.Require(t, "netns", fmt.Errorf("no %s for an unprivileged user: %w", python, err))
	}
	subs, students := class(t, 4)
	root := filepath.Dir(subs)
	// The user needs to read the class, write the output, run netgrade.
	for _, d := range []string{root, filepath.Dir(root), filepath.Dir(netgradeBin)} {
		require.NoError(t, os.Chmod(d, 0o777))
	}
	require.NoError(t, filepath.WalkDir(subs, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	}))
	out := filepath.Join(root, "out")
	cmd := exec.Command(netgradeBin, "batch", subs, "--exercise", strings.Join(classIDs, ","), "-o", out, "-j", "4", "--sandbox", "netns")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "netgrade batch as nobody:\n%s", output)
	assert.NotContains(t, string(output), "WITHOUT isolation")
	checkDeclared(t, out, students)
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	for _, r := range recs {
		assert.Equal(t, sandbox.Netns, r.Sandbox)
		st, err := os.Stat(batch.RecordPath(out, r.Student))
		require.NoError(t, err)
		assert.Equal(t, uint32(65534), st.Sys().(*syscall.Stat_t).Uid, "written by the unprivileged user")
	}
}

// TestBatchFallsBackToProcess runs a batch where user namespaces cannot be
// created (inside a user namespace whose max_user_namespaces is 0): without
// --sandbox, netgrade says so and grades without isolation, and the report
// says so too; with --sandbox netns, it refuses.
func TestBatchFallsBackToProcess(t *testing.T) {
	sandboxtest.Netns(t, netgradeBin)
	unshare, err := exec.LookPath("unshare")
	sandboxtest.Require(t, "netns", err)
	subs, students := class(t, 3)
	out := filepath.Join(filepath.Dir(subs), "out")
	noNamespaces := func(args ...string) *clitest.Result {
		return clitest.RunTimeout(10*time.Minute, unshare, append([]string{"--user", "--map-root-user", "sh", "-c",
			`echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"`, netgradeBin}, args...)...)
	}

	res := noNamespaces("batch", subs, "-o", out, "--sandbox", "netns", "--exercise", strings.Join(classIDs, ","))
	res.Assert(t, clitest.Expected{ExitCode: 3, Err: "the netns sandbox is unavailable"})

	res = noNamespaces("batch", subs, "-o", out, "--exercise", strings.Join(classIDs, ","))
	res.Assert(t, clitest.Expected{ExitCode: 0, Err: "grading with the process sandbox, WITHOUT isolation"})
	checkDeclared(t, out, students)
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	for _, r := range recs {
		assert.Equal(t, sandbox.Process, r.Sandbox)
		assert.Contains(t, r.SandboxNote, "netns sandbox is unavailable")
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), `id="no-isolation"`)
}
