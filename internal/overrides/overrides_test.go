package overrides_test

import (
	"errors"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/overrides"
	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// catalog is a course of two exercises.
var catalog = overrides.Catalog{
	"udp-server":            {Exercise: "udp-server", Max: 10},
	"udp-server/log-format": {Exercise: "udp-server", Check: "udp-server/log-format", Max: 2},
	"udp-server/utf8":       {Exercise: "udp-server", Check: "udp-server/utf8", Max: 3},
	"udp-client":            {Exercise: "udp-client", Max: 5},
}

func ptr(x float64) *float64 { return &x }

func TestParse(t *testing.T) {
	src := `# the instructor's last word
alice:
  - check: udp-server/log-format
    set: 2
    comment: the log line is right; the timezone differs
    by: lee
    at: 2026-12-01
  - exercise: udp-client
    add: -1
    comment: handed in late
    by: lee
    at: 2026-12-02 14:30
    verdict: 5/5
bob:
  - {exercise: udp-server, check: utf8, add: 1, comment: a short ID, by: lee, at: 2026-12-04}
"12345":
  - {exercise: udp-server, set: 0, comment: copied, by: ng, at: "2026-12-03T10:00:00+01:00"}
`
	f, err := overrides.Parse("overrides.yaml", []byte(src), catalog)
	assert.NilError(t, err)
	assert.Equal(t, f.Len(), 4)
	assert.Equal(t, f.For("bob")[0].Check, "udp-server/utf8", "a check's short ID under its exercise")
	a := f.For("alice")
	assert.Equal(t, len(a), 2)
	assert.DeepEqual(t, a[0], overrides.Override{
		Student: "alice", Exercise: "udp-server", Check: "udp-server/log-format", Set: ptr(2),
		Comment: "the log line is right; the timezone differs", By: "lee",
		At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Line: 3, Column: 5,
	})
	assert.Equal(t, *a[1].Add, -1.0)
	assert.Equal(t, a[1].Check, "")
	assert.Equal(t, a[1].Verdict, "5/5")
	assert.Equal(t, a[1].At, time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC))
	n := f.For("12345")
	assert.Equal(t, len(n), 1)
	assert.Equal(t, n[0].At, time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	assert.Equal(t, n[0].Line, 17)

	for _, empty := range []string{"", "# nothing yet\n", "~\n"} {
		f, err := overrides.Parse("o.yaml", []byte(empty), catalog)
		assert.NilError(t, err, "%q", empty)
		assert.Equal(t, f.Len(), 0)
	}
}

func TestParseRefusesMistakesAtTheirLineAndColumn(t *testing.T) {
	entry := "    comment: c\n    by: b\n    at: 2026-12-01\n"
	cases := []struct {
		name, src string
		want      []string // each error, from its line:col
	}{
		{"not yaml", "alice:\n  - check: [udp-server\n", []string{"o.yaml:2:"}},
		{"top is a list", "- alice\n", []string{"o.yaml:1:1: the overrides file must be a mapping of student IDs"}},
		{"student not a list", "alice: 3\n", []string{"o.yaml:1:8: the overrides of alice must be a list"}},
		{"unknown check", "alice:\n  - check: udp-server/log-fromat\n    set: 1\n" + entry,
			[]string{`o.yaml:2:12: the course has no check "udp-server/log-fromat": did you mean "udp-server/log-format"?`}},
		{"unknown exercise", "alice:\n  - exercise: smtp-client\n    set: 1\n" + entry,
			[]string{`o.yaml:2:15: the course has no exercise "smtp-client"; its exercises: udp-client, udp-server`}},
		{"unknown key", "alice:\n  - check: udp-server/utf8\n    sett: 1\n" + entry,
			[]string{`o.yaml:3:5: unknown key "sett" in an override of alice (did you mean set?)`}},
		{"a check of another exercise", "alice:\n  - check: udp-server/utf8\n    exercise: udp-client\n    set: 1\n" + entry,
			[]string{`o.yaml:2:12: udp-server/utf8 is a check of udp-server, not of exercise udp-client`}},
		{"neither set nor add", "alice:\n  - check: udp-server/utf8\n" + entry,
			[]string{"o.yaml:2:5: an override of alice says neither set nor add"}},
		{"both set and add", "alice:\n  - check: udp-server/utf8\n    set: 1\n    add: 1\n" + entry,
			[]string{"o.yaml:4:5: an override of alice gives both set and add"}},
		{"set above the check's points", "alice:\n  - check: udp-server/utf8\n    set: 30\n" + entry,
			[]string{"o.yaml:3:10: set must be between 0 and the 3 points udp-server/utf8 is worth, not 30 (use add for a bonus)"}},
		{"negative set", "alice:\n  - exercise: udp-client\n    set: -1\n" + entry,
			[]string{"o.yaml:3:10: set must be between 0 and the 5 points exercise udp-client is worth, not -1"}},
		{"points not a number", "alice:\n  - check: udp-server/utf8\n    add: two\n" + entry,
			[]string{"o.yaml:3:10: add must be a number of points, not a string"}},
		{"no comment, by or at", "alice:\n  - check: udp-server/utf8\n    set: 1\n",
			[]string{"o.yaml:2:5: an override of alice has no comment", "o.yaml:2:5: an override of alice has no by", "o.yaml:2:5: an override of alice has no at"}},
		{"bad date", "alice:\n  - check: udp-server/utf8\n    set: 1\n    comment: c\n    by: b\n    at: yesterday\n",
			[]string{`o.yaml:6:9: at must be a date such as 2026-12-01 or 2026-12-01 14:30, not "yesterday"`}},
		{"twice the same check", "alice:\n  - check: udp-server/utf8\n    set: 1\n" + entry + "  - check: udp-server/utf8\n    add: 1\n" + entry,
			[]string{"o.yaml:7:5: alice udp-server/utf8 is overridden twice (also at line 2)"}},
		{"an empty override", "alice:\n  - {}\n", []string{"o.yaml:2:5: an override of alice is empty"}},
		{"two students, two mistakes", "alice:\n  - check: nope\n    set: 1\n" + entry + "bob:\n  - exercise: udp-client\n    set: 9\n" + entry,
			[]string{`o.yaml:2:12: the course has no check "nope"`, "o.yaml:9:10: set must be between 0 and the 5 points"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := overrides.Parse("o.yaml", []byte(c.src), catalog)
			assert.Assert(t, err != nil)
			var errs overrides.Errors
			assert.Assert(t, errors.As(err, &errs), "a bad file is refused with its mistakes: %v", err)
			assert.Equal(t, len(errs), len(c.want), "%v", err)
			for i, w := range c.want {
				assert.Assert(t, is.Contains(errs[i].Error(), w))
			}
			assert.Assert(t, is.Contains(err.Error(), "^"), "the line is shown with a caret under the mistake")
		})
	}
}

// graded is a student's grading: udp-server 7/10 (log-format failed),
// udp-client missing.
func graded() []report.Result {
	return []report.Result{
		{Exercise: "udp-server", Score: 8, MaxScore: 10, Command: []string{"python3"}, Checks: []report.Check{
			{ID: "udp-server/starts", Status: report.Pass, Points: 5, MaxPoints: 5},
			{ID: "udp-server/log-format", Status: report.Fail, Points: 0, MaxPoints: 2, Message: "no date"},
			{ID: "udp-server/utf8", Status: report.Pass, Points: 3, MaxPoints: 3},
		}},
		{Exercise: "udp-client", Score: 0, MaxScore: 5, Missing: true, Checks: []report.Check{
			{ID: "udp-client/exits", Status: report.Skip, MaxPoints: 5},
		}},
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	setLog := overrides.Override{Student: "alice", Exercise: "udp-server", Check: "udp-server/log-format", Set: ptr(2), Comment: "fine", By: "lee", At: at}
	minus := overrides.Override{Student: "alice", Exercise: "udp-server", Add: ptr(-20), Comment: "copied", By: "lee", At: at}
	late := overrides.Override{Student: "alice", Exercise: "udp-client", Set: ptr(4), Comment: "sent by mail", By: "lee", At: at}
	gone := overrides.Override{Student: "alice", Exercise: "udp-server", Check: "udp-server/off", Set: ptr(1), Comment: "x", By: "lee", At: at}

	t.Run("check set, then exercise add on top, never below 0", func(t *testing.T) {
		rs := graded()
		out, applied, unmatched := overrides.Apply(rs, []overrides.Override{minus, setLog}, nil)
		assert.DeepEqual(t, graded(), rs) // the results given are left as they were
		assert.Equal(t, len(unmatched), 0)
		assert.Equal(t, len(applied), 2)
		assert.Equal(t, applied[0].Check, "udp-server/log-format", "check overrides first")
		assert.Equal(t, applied[0].Autograded, 0.0)
		assert.Equal(t, applied[0].Final, 2.0)
		assert.Equal(t, applied[0].Verdict, "fail")
		assert.Equal(t, applied[1].Autograded, 10.0, "the exercise override starts from the score with its checks' overrides")
		assert.Equal(t, applied[1].Final, 0.0)
		assert.Equal(t, applied[1].Verdict, "8/10", "an exercise's verdict is its autograded score")
		assert.Equal(t, out[0].Score, 0.0)
		assert.Equal(t, out[0].Checks[1].Points, 2.0)
		assert.Assert(t, is.Contains(out[0].Checks[1].Notes[0], "instructor's adjustment: 2 points instead of 0 (fine, lee on 2026-12-01)"))
		adj := out[0].Checks[len(out[0].Checks)-1]
		assert.Equal(t, adj.ID, "udp-server/instructor")
		assert.Equal(t, adj.Points, -10.0)
		score, _ := report.Total(out)
		assert.Equal(t, score, 0.0)
	})
	t.Run("an exercise not handed in, scored by hand", func(t *testing.T) {
		out, applied, _ := overrides.Apply(graded(), []overrides.Override{late}, nil)
		assert.Equal(t, applied[0].Verdict, "missing")
		assert.Equal(t, out[1].Score, 4.0)
		assert.Assert(t, !out[1].Missing)
	})
	t.Run("flagged when the verdict under it changed", func(t *testing.T) {
		seen := overrides.Seen{setLog.Key(): "fail"}
		rs := graded()
		_, applied, _ := overrides.Apply(rs, []overrides.Override{setLog}, seen)
		assert.Equal(t, applied[0].Flag, "", "same verdict: nothing to look at")
		rs[0].Checks[1].Status, rs[0].Checks[1].Points = report.Pass, 2
		_, applied, _ = overrides.Apply(rs, []overrides.Override{setLog}, seen)
		assert.Equal(t, applied[0].WrittenOver, "fail")
		assert.Equal(t, applied[0].Flag, "the verdict under this override changed since it was written: fail then, pass now")
		withMax := minus
		withMax.Verdict = "8/12"
		_, applied, _ = overrides.Apply(graded(), []overrides.Override{withMax}, nil)
		assert.Equal(t, applied[0].Verdict, "8/10")
		assert.Equal(t, applied[0].Flag, "", "the same score of another maximum: nothing to look at")
		withVerdict := late
		withVerdict.Verdict = "0/5"
		_, applied, _ = overrides.Apply(graded(), []overrides.Override{withVerdict}, nil)
		assert.Assert(t, is.Contains(applied[0].Flag, "0/5 then, missing now"), "the file's verdict comes first")
	})
	t.Run("a check the grading does not hold", func(t *testing.T) {
		_, applied, unmatched := overrides.Apply(graded(), []overrides.Override{gone}, nil)
		assert.Equal(t, len(applied), 0)
		assert.Equal(t, len(unmatched), 1)
		assert.Assert(t, is.Contains(unmatched[0].Reason, "no check udp-server/off"))
	})
}
