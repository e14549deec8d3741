package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/overrides"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/sandbox"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// pointsSandbox is the fake sandbox under the course's points: a check's
// points are the ones its file's settings give.
type pointsSandbox struct{ *fakeSandbox }

func (p pointsSandbox) Grade(ctx context.Context, u sandbox.Unit) ([]report.Result, error) {
	rs, err := p.fakeSandbox.Grade(ctx, u)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		set := graders.SettingsOf(u.Course, u.Files[i].Exercise)
		for j := range rs[i].Checks {
			c := &rs[i].Checks[j]
			if p := set.Check(c.ID).Points; p != nil {
				c.MaxPoints = *p
			}
		}
		rs[i].Tally()
	}
	return rs, nil
}

// coursePoints returns a course that gives udp-server/log-format pts
// points (0: its default).
func coursePoints(pts float64) graders.Course {
	if pts == 0 {
		return sandbox.Course{}
	}
	return sandbox.Course{"udp-server": {Settings: graders.Settings{Checks: map[string]graders.CheckSettings{"udp-server/log-format": {Points: &pts}}}}}
}

// readCSV returns the rows of OUT/name after the header.
func readCSV(t *testing.T, out, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, name))
	assert.NilError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return lines[1:]
}

// notesPage is a student page that shows each check's points and notes,
// and the page's notes.
func notesPage(w io.Writer, rs []report.Result, notes []string) error {
	for _, r := range rs {
		for _, c := range r.Checks {
			fmt.Fprintf(w, "%s %s %g %s\n", c.ID, c.Status, c.Points, strings.Join(c.Notes, "; "))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func readPage(t *testing.T, out, id string) string {
	t.Helper()
	data, err := os.ReadFile(batch.PagePath(out, id))
	assert.NilError(t, err)
	return string(data)
}

func readSummary(t *testing.T, out string) batch.Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	assert.NilError(t, err)
	var s batch.Summary
	assert.NilError(t, json.Unmarshal(data, &s))
	return s
}

func TestRegradeListsExactlyTheChangedCells(t *testing.T) {
	subs := fakeClass(t)
	out := t.TempDir()
	students, err := batch.Discover(subs)
	assert.NilError(t, err)
	fake := pointsSandbox{newFake()}
	run := func(pts float64, regrade bool) *batch.Outcome {
		t.Helper()
		opt := options(out, fake)
		opt.Course, opt.Regrade = coursePoints(pts), regrade
		res, err := batch.Run(context.Background(), students, opt)
		assert.NilError(t, err)
		_, err = batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", StudentPage: notesPage})
		assert.NilError(t, err)
		return res
	}
	res := run(0, false)
	assert.Equal(t, res.Graded, 6)
	assert.DeepEqual(t, readCSV(t, out, "changes.csv"), []string{}) // a first grading changes nothing
	assert.Assert(t, readSummary(t, out).Regrade == nil)

	// One check's points change in the course (2 → 4) and one student's
	// code: bob's udp-server.py now passes log-format and utf8.
	write(t, subs, map[string]string{"bob/udp-server.py": "pass"})
	res = run(4, false)
	assert.Equal(t, res.Graded, 6, "a changed course entry grades every student again")
	assert.DeepEqual(t, readCSV(t, out, "changes.csv"), []string{
		"alice,udp-server/log-format,pass,pass,2,4,",
		"bob,udp-server/log-format,fail,pass,0,4,",
		"bob,udp-server/utf8,fail,pass,0,1,",
		"erin,udp-server/log-format,pass,pass,2,4,",
	})
	// carol handed no udp-server.py in, dave fails log-format, frank's
	// archive is refused: 0 points before and after, no change.
	sum := readSummary(t, out)
	assert.Equal(t, sum.Regrade.Regraded, 6)
	assert.DeepEqual(t, sum.Regrade.Changed, []string{"alice", "bob", "erin"})
	page := readPage(t, out, "bob")
	assert.Assert(t, is.Contains(page, "note: changed since the last grading: udp-server/log-format: fail → pass (0 → 4 points)"))
	assert.Assert(t, !strings.Contains(readPage(t, out, "dave"), "changed since"))
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(html), `<tr class="change" data-student="bob" data-check="udp-server/utf8">`))
	assert.Assert(t, is.Contains(string(html), "6 students graded again; 3 students changed, 4 checks in all"))
	prev, err := batch.ReadRecord(batch.PreviousPath(out, "bob"))
	assert.NilError(t, err)
	assert.Equal(t, prev.Score, 17.0, "the last grading is kept")

	t.Run("nothing changed: nobody graded again", func(t *testing.T) {
		res := run(4, false)
		assert.Equal(t, res.Graded, 0)
		assert.Equal(t, res.Skipped, 6)
		assert.DeepEqual(t, readCSV(t, out, "changes.csv"), []string{})
		assert.Assert(t, readSummary(t, out).Regrade == nil)
	})
	t.Run("--regrade grades all and still writes the diff", func(t *testing.T) {
		write(t, subs, map[string]string{"alice/udp-client.py": "fail udp-client/exits"})
		res := run(4, true)
		assert.Equal(t, res.Graded, 6)
		assert.DeepEqual(t, readCSV(t, out, "changes.csv"), []string{
			"alice,udp-client/exits,pass,fail,1,0,wrong on port 20001",
		})
		assert.Equal(t, readSummary(t, out).Regrade.Regraded, 6)
	})
	t.Run("another netgrade grades again", func(t *testing.T) {
		opt := options(out, fake)
		opt.Course, opt.Version = coursePoints(4), "test-2"
		res, err := batch.Run(context.Background(), students, opt)
		assert.NilError(t, err)
		assert.Equal(t, res.Graded, 6)
	})
}

func TestOverridesAppliedKeptAndFlagged(t *testing.T) {
	subs := fakeClass(t)
	out := t.TempDir()
	students, err := batch.Discover(subs)
	assert.NilError(t, err)
	src := `alice:
  - check: udp-server/log-format
    set: 0
    comment: the log line was copied
    by: lee
    at: 2026-12-01
bob:
  - check: udp-server/log-format
    set: 1
    comment: half right
    by: lee
    at: 2026-12-01
carol:
  - exercise: udp-server
    set: 5
    comment: sent by mail
    by: lee
    at: 2026-12-02
zoe:
  - exercise: udp-client
    add: 1
    comment: not in this class
    by: lee
    at: 2026-12-02
`
	file, err := overrides.Parse("overrides.yaml", []byte(src), batch.Catalog(classExercises(), nil))
	assert.NilError(t, err)
	grade := func() batch.Summary {
		t.Helper()
		_, err := batch.Run(context.Background(), students, options(out, newFake()))
		assert.NilError(t, err)
		sum, err := batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", Overrides: file, StudentPage: notesPage})
		assert.NilError(t, err)
		return sum
	}
	sum := grade()
	grades := readCSV(t, out, "grades.csv")
	assert.DeepEqual(t, grades[:3], []string{
		"alice,10,8,18,", // was 12+8: log-format set to 0
		"bob,10,8,18,",   // was 9+8: log-format set to 1
		"carol,5,7,12,",  // udp-server not handed in: 5 by hand
	})
	assert.Equal(t, len(sum.Overrides), 3)
	assert.Equal(t, sum.Overrides[0].Autograded, 2.0)
	assert.Equal(t, sum.Overrides[0].Final, 0.0)
	assert.Equal(t, sum.Overrides[2].Verdict, "missing")
	assert.Equal(t, len(sum.OverridesUnmatched), 1)
	assert.Assert(t, is.Contains(sum.OverridesUnmatched[0].Reason, "no student zoe"))
	assert.Assert(t, sum.AutogradedAverageScore != nil)
	assert.Assert(t, *sum.AutogradedAverageScore != sum.AverageScore, "the autograded average is kept beside the final one")
	for _, a := range sum.Overrides {
		assert.Equal(t, a.Flag, "", "%s: nothing changed under it", a.Target())
	}
	rec, err := batch.ReadRecord(batch.RecordPath(out, "alice"))
	assert.NilError(t, err)
	assert.Equal(t, rec.Score, 20.0, "the student's file keeps the autograded grading")
	assert.Assert(t, is.Contains(readPage(t, out, "alice"), "udp-server/log-format pass 0 instructor's adjustment: 0 points instead of 2 (the log line was copied, lee on 2026-12-01)"))
	assert.Assert(t, is.Contains(readPage(t, out, "carol"), "udp-server/instructor pass 5 instructor's adjustment: 5 points instead of 0 (sent by mail"))
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(html), `<tr class="override" data-student="bob">`))

	// bob fixes his log line: the regrade keeps the override, flagged.
	write(t, subs, map[string]string{"bob/udp-server.py": "fail udp-server/utf8"})
	sum = grade()
	assert.Equal(t, len(sum.Overrides), 3, "the overrides survive the regrade")
	assert.Equal(t, readCSV(t, out, "grades.csv")[1], "bob,10,8,18,", "log-format still set to 1 over the pass")
	assert.Equal(t, sum.Overrides[1].Student, "bob")
	assert.Equal(t, sum.Overrides[1].Flag, "the verdict under this override changed since it was written: fail then, pass now")
	assert.Equal(t, sum.Overrides[0].Flag, "", "alice's verdict did not change")
	html, err = os.ReadFile(filepath.Join(out, "report.html"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(html), `<tr class="override" data-student="bob" data-flagged="true">`))
	t.Run("still flagged on the next run", func(t *testing.T) {
		sum := grade()
		assert.Equal(t, sum.Overrides[1].WrittenOver, "fail")
		assert.Assert(t, sum.Overrides[1].Flag != "")
	})
}

// countProgress calls done once n students are graded.
type countProgress struct {
	n    int
	done func()
}

func (p *countProgress) Start(int, int) {}
func (p *countProgress) Graded(batch.Student, *batch.Record, error) {
	if p.n--; p.n == 0 {
		p.done()
	}
}
func (p *countProgress) Finish() {}

// An interrupted regrade, resumed, still compares every student with the
// grading before the regrade.
func TestInterruptedRegradeKeepsTheLastGrading(t *testing.T) {
	subs := fakeClass(t)
	write(t, subs, map[string]string{"gina/udp-server.py": "pass", "gina/udp-client.py": "pass"})
	out := t.TempDir()
	students, err := batch.Discover(subs)
	assert.NilError(t, err)
	fake := pointsSandbox{newFake()}
	opt := options(out, fake)
	_, err = batch.Run(context.Background(), students, opt)
	assert.NilError(t, err)

	// The course changes; gina's grading blocks and the batch is stopped
	// once the six others are done.
	write(t, subs, map[string]string{"gina/udp-server.py": "block"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt.Course, opt.Jobs = coursePoints(4), 7
	opt.Progress = &countProgress{n: 6, done: cancel}
	res, err := batch.Run(ctx, students, opt)
	assert.NilError(t, err)
	assert.Assert(t, res.Interrupted)
	assert.Equal(t, res.Graded, 6)

	write(t, subs, map[string]string{"gina/udp-server.py": "pass"})
	opt.Progress = nil
	res, err = batch.Run(context.Background(), students, opt)
	assert.NilError(t, err)
	assert.Equal(t, res.Graded, 1, "only gina is left")
	_, err = batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test"})
	assert.NilError(t, err)
	assert.DeepEqual(t, readCSV(t, out, "changes.csv"), []string{
		"alice,udp-server/log-format,pass,pass,2,4,",
		"erin,udp-server/log-format,pass,pass,2,4,",
		"gina,udp-server/log-format,pass,pass,2,4,",
	})
	assert.Equal(t, readSummary(t, out).Regrade.Regraded, 7)
}

// TestLaterWritingsKeepEveryPass: the class files are written again by a
// regrade, `netgrade interop` and `netgrade similarity`, each knowing only
// its own pass; none of them loses what another wrote: the interop lines
// on the students' pages, the similarity section, the overrides.
func TestLaterWritingsKeepEveryPass(t *testing.T) {
	subs := fakeClass(t)
	out := t.TempDir()
	students, err := batch.Discover(subs)
	assert.NilError(t, err)
	_, err = batch.Run(context.Background(), students, options(out, pointsSandbox{newFake()}))
	assert.NilError(t, err)
	// What netgrade interop leaves, and a similarity analysis's page and
	// section from an earlier writing.
	assert.NilError(t, os.MkdirAll(filepath.Join(out, "interop"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(out, "interop", "lines.json"),
		[]byte(`{"alice": ["your udp-server understood 4 of 5 classmates' clients"]}`), 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(out, "interop", "summary.json"), []byte(`{"schema": 1, "sandbox": "process", "pairs": []}`), 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(out, "similarity.html"), []byte("<html></html>"), 0o644))
	sim := []byte(`{"similarity": {"threshold": 0.5}}`)
	assert.NilError(t, os.WriteFile(filepath.Join(out, "summary.json"), sim, 0o644))

	// A writing that knows neither (a regrade, a merge).
	_, err = batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", StudentPage: notesPage})
	assert.NilError(t, err)
	assert.Check(t, is.Contains(readPage(t, out, "alice"), "note: your udp-server understood 4 of 5 classmates' clients"))
	assert.Check(t, !strings.Contains(readPage(t, out, "bob"), "understood"))
	s := readSummary(t, out)
	assert.Check(t, s.Similarity != nil, "the similarity section was dropped")
	assert.Check(t, s.Interop != nil, "the interop section was dropped")

	// Once the analysis's page is gone (--no-similarity), so is its section.
	assert.NilError(t, os.Remove(filepath.Join(out, "similarity.html")))
	_, err = batch.WriteClassFiles(out, classExercises(), batch.ReportMeta{Version: "test", StudentPage: notesPage})
	assert.NilError(t, err)
	assert.Check(t, readSummary(t, out).Similarity == nil)
}
