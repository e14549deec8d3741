package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/clitest"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// regradeCourse is a course of udp-server alone; logFormat, when not 0,
// gives udp-server/log-format its points.
func regradeCourse(logFormat int) string {
	s := "exercises:\n  - id: udp-server\n    file: udp-server.py\n"
	if logFormat != 0 {
		s += fmt.Sprintf("    checks:\n      log-format: {points: %d}\n", logFormat)
	}
	return s
}

// writeFiles writes files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		assert.NilError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		assert.NilError(t, os.WriteFile(full, data, 0o644))
	}
}

// TestRegradeAfterTheCourseAndAFixtureChanged grades three students
// (plain.py, tuple_addr.py failing log-format, latin1_decode.py failing
// utf8) with an instructor's override on carol's utf8, then changes one
// check's points in the course and carol's code to plain.py: the second
// batch grades them again, changes.csv names exactly the cells that moved,
// and carol's override is kept and flagged.
func TestRegradeAfterTheCourseAndAFixtureChanged(t *testing.T) {
	root := t.TempDir()
	subs := filepath.Join(root, "submissions")
	writeFiles(t, subs, map[string][]byte{
		"alice/udp-server.py": fixture(t, "udp-server", "plain.py"),
		"bob/udp-server.py":   fixture(t, "udp-server", "tuple_addr.py"),
		"carol/udp-server.py": fixture(t, "udp-server", "latin1_decode.py"),
	})
	courseFile := filepath.Join(root, "course.yaml")
	writeFiles(t, root, map[string][]byte{
		"course.yaml": []byte(regradeCourse(0)),
		// Beside the course file: read without --overrides.
		"overrides.yaml": []byte(`carol:
  - exercise: udp-server
    check: utf8
    set: 0.5
    comment: the accents are right on her machine
    by: lee
    at: 2026-12-01
`),
	})
	out := filepath.Join(root, "out")
	args := []string{"batch", subs, "-o", out, "-j", "3", "--sandbox", "process", "--course", courseFile, "--exercise", "udp-server"}
	res := netgrade(t, args...)
	res.Assert(t, clitest.Expected{ExitCode: 0, Out: "Applied 1 override from " + filepath.Join(root, "overrides.yaml")})
	assert.DeepEqual(t, csvRows(t, filepath.Join(out, "changes.csv")), [][]string{{"student", "check", "before", "after", "points_before", "points_after", "message"}})
	first := summary(t, out)
	assert.Equal(t, len(first.Overrides), 1)
	assert.Equal(t, first.Overrides[0].Verdict, "fail")
	assert.Equal(t, first.Overrides[0].Final, 0.5)
	carol, err := batch.ReadRecord(batch.RecordPath(out, "carol"))
	assert.NilError(t, err)
	utf8Max := 0.0
	for _, c := range carol.Results[0].Checks {
		if c.ID == "udp-server/utf8" {
			utf8Max = c.MaxPoints
		}
	}
	assert.Assert(t, utf8Max > 0.5)

	writeFiles(t, root, map[string][]byte{"course.yaml": []byte(regradeCourse(4))})
	writeFiles(t, subs, map[string][]byte{"carol/udp-server.py": fixture(t, "udp-server", "plain.py")})
	res = netgrade(t, args...)
	res.Assert(t, clitest.Expected{ExitCode: 0, Out: "Graded 3 students again: 2 students changed since the last grading (3 checks)"})
	assert.Assert(t, is.Contains(res.Stdout(), "look again at line 2, carol udp-server/utf8: the verdict under this override changed since it was written: fail then, pass now"))
	// bob still fails log-format: 0 points before and after, no change.
	assert.DeepEqual(t, csvRows(t, filepath.Join(out, "changes.csv"))[1:], [][]string{
		{"alice", "udp-server/log-format", "pass", "pass", "2", "4", ""},
		{"carol", "udp-server/log-format", "pass", "pass", "2", "4", ""},
		{"carol", "udp-server/utf8", "fail", "pass", "0", fmt.Sprint(utf8Max), ""},
	})
	second := summary(t, out)
	assert.Equal(t, len(second.Overrides), 1, "the override survives the regrade")
	assert.Equal(t, second.Overrides[0].Autograded, utf8Max)
	assert.Equal(t, second.Overrides[0].Final, 0.5)
	page, err := os.ReadFile(batch.PagePath(out, "carol"))
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(page), "changed since the last grading: udp-server/utf8: fail → pass"))
	assert.Assert(t, is.Contains(string(page), "instructor&#39;s adjustment: 0.5 points instead of"))
	grades := csvRows(t, filepath.Join(out, "grades.csv"))
	for _, row := range grades[1:] {
		if row[0] == "carol" {
			rec, err := batch.ReadRecord(batch.RecordPath(out, "carol"))
			assert.NilError(t, err)
			assert.Equal(t, row[1], fmt.Sprint(rec.Score-utf8Max+0.5), "the gradebook has the override")
		}
	}

	t.Run("a bad overrides file is refused with its line and column", func(t *testing.T) {
		bad := filepath.Join(root, "bad.yaml")
		writeFiles(t, root, map[string][]byte{"bad.yaml": []byte("bob:\n  - check: udp-server/log-fromat\n    set: 1\n    comment: c\n    by: b\n    at: 2026-12-01\n")})
		res := netgrade(t, append(args, "--overrides", bad)...)
		res.Assert(t, clitest.Expected{ExitCode: 2, Err: bad + `:2:12: the course has no check "udp-server/log-fromat": did you mean "udp-server/log-format"?`})
		assert.Assert(t, !strings.Contains(res.Stderr(), "--help"), "the mistake is in a file")
	})
}

// csvRows reads a CSV file's rows.
func csvRows(t *testing.T, path string) [][]string {
	t.Helper()
	return readCSV(t, path)
}

// summary reads OUT/summary.json.
func summary(t *testing.T, out string) batch.Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	assert.NilError(t, err)
	var s batch.Summary
	assert.NilError(t, json.Unmarshal(data, &s))
	return s
}
