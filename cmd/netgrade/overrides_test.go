package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/render"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestGradescopeOverrides grades a Gradescope submission (udp-server
// passing, 12 points; udp-client not handed in) under overrides naming its
// student: results.json has them, in its score and its tests.
func TestGradescopeOverrides(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "submission")
	assert.NilError(t, os.MkdirAll(sub, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(sub, "udp-server.py"), fixture(t, "udp-server", "plain.py"), 0o644))
	crs := filepath.Join(root, "course.yaml")
	assert.NilError(t, os.WriteFile(crs, []byte("exercises:\n  - id: udp-server\n    file: udp-server.py\n  - id: udp-client\n    file: udp-client.py\n"), 0o644))
	ovr := filepath.Join(root, "overrides.yaml")
	assert.NilError(t, os.WriteFile(ovr, []byte(`s123:
  - check: udp-server/log-format
    add: -1
    comment: the log line was copied from a classmate
    by: lee
    at: 2026-12-01
  - exercise: udp-client
    set: 3
    comment: sent by mail on time
    by: lee
    at: 2026-12-02
other:
  - exercise: udp-client
    set: 8
    comment: not this student
    by: lee
    at: 2026-12-02
`), 0o644))
	results := filepath.Join(root, "results.json")
	code, out, errs := runCLI(t, "gradescope", "--course", crs, "--submission", sub, "--results", results, "--student", "s123")
	assert.Equal(t, code, exitOK, "%s\n%s", out, errs)
	assert.Assert(t, is.Contains(out, "netgrade wrote "+results+": 14/20"), "12 - 1 + 3")
	assert.Assert(t, is.Contains(errs, "note: override at line 2, s123 udp-server/log-format: 2 → 1 points"))
	assert.Assert(t, is.Contains(errs, "note: override at line 7, s123 udp-client: 0 → 3 points"))

	data, err := os.ReadFile(results)
	assert.NilError(t, err)
	var g render.GradescopeResults
	assert.NilError(t, json.Unmarshal(data, &g))
	assert.Equal(t, g.Score, 14.0)
	var logFormat, adjustment *render.GradescopeTest
	for i, tc := range g.Tests {
		switch tc.Name[:len("udp-server/log-format")] {
		case "udp-server/log-format":
			logFormat = &g.Tests[i]
		case "udp-client/instructor":
			adjustment = &g.Tests[i]
		}
	}
	assert.Assert(t, logFormat != nil && adjustment != nil, "%s", data)
	assert.Equal(t, logFormat.Score, 1.0)
	assert.Assert(t, is.Contains(logFormat.Output, "instructor's adjustment"))
	assert.Assert(t, is.Contains(logFormat.Output, "the log line was copied from a classmate, lee on 2026-12-01"))
	assert.Equal(t, adjustment.Score, 3.0)

	t.Run("the student from Gradescope's metadata", func(t *testing.T) {
		md := filepath.Join(root, "submission_metadata.json")
		assert.NilError(t, os.WriteFile(md, []byte(`{"users": [{"email": "an@example.org", "name": "An", "sid": "s123"}]}`), 0o644))
		assert.DeepEqual(t, gradescopeStudents("", md), []string{"s123", "an@example.org", "An"})
		assert.DeepEqual(t, gradescopeStudents("x9", md), []string{"x9"})
		assert.Equal(t, len(gradescopeStudents("", filepath.Join(root, "none.json"))), 0)
	})
	t.Run("a bad overrides file", func(t *testing.T) {
		assert.NilError(t, os.WriteFile(ovr, []byte("s123:\n  - exercise: udp-client\n    set: 30\n    comment: c\n    by: b\n    at: 2026-12-01\n"), 0o644))
		code, _, errs := runCLI(t, "gradescope", "--course", crs, "--submission", sub, "--results", results)
		assert.Equal(t, code, exitUsage)
		assert.Assert(t, is.Contains(errs, ovr+":3:10: set must be between 0 and the 8 points exercise udp-client is worth, not 30"))
	})
}

func TestOverridesFlag(t *testing.T) {
	root := t.TempDir()
	crs := filepath.Join(root, "course.yaml")
	assert.NilError(t, os.WriteFile(crs, []byte("exercises:\n  - id: udp-server\n    file: udp-server.py\n  - id: udp-client\n    file: udp-client.py\n"), 0o644))
	w := newBatchWiring(mustCourse(t, crs))
	exs := w.Registry.Exercises()

	f, err := (&overridesFlag{}).load(courseFlag{}, exs, w.Course)
	assert.NilError(t, err)
	assert.Assert(t, f == nil, "no course file, no flag: no overrides")
	f, err = (&overridesFlag{}).load(courseFlag{path: crs}, exs, w.Course)
	assert.NilError(t, err)
	assert.Assert(t, f == nil, "no overrides.yaml beside the course file: none")

	beside := filepath.Join(root, "overrides.yaml")
	assert.NilError(t, os.WriteFile(beside, []byte("alice:\n  - {exercise: udp-client, set: 3, comment: c, by: b, at: 2026-12-01}\n"), 0o644))
	f, err = (&overridesFlag{}).load(courseFlag{path: crs}, exs, w.Course)
	assert.NilError(t, err)
	assert.Equal(t, f.Source, beside)
	assert.Equal(t, f.Len(), 1)

	_, err = (&overridesFlag{path: filepath.Join(root, "nope.yaml")}).load(courseFlag{path: crs}, exs, w.Course)
	assert.Assert(t, is.ErrorContains(err, "nope.yaml: no such file"))

	t.Run("batch of one exercise, an override of another", func(t *testing.T) {
		subs := filepath.Join(root, "subs")
		assert.NilError(t, os.MkdirAll(filepath.Join(subs, "alice"), 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(subs, "alice", "notes.txt"), []byte("nothing"), 0o644))
		out := filepath.Join(root, "out")
		code, stdout, errs := runCLI(t, "batch", subs, "-o", out, "--sandbox", "process", "--course", crs, "--exercise", "udp-server")
		assert.Equal(t, code, exitBadSubmissions, "%s\n%s", stdout, errs)
		assert.Assert(t, is.Contains(stdout, "Applied 0 overrides from "+beside))
		assert.Assert(t, is.Contains(stdout, "line 2, alice udp-client adjusted nothing: the student has no result for exercise udp-client"))
	})
}

// TestCourseCheckReadsTheOverrides: `course check` reads the overrides
// file beside the course file as a batch would, and refuses a bad one with
// its line and column before any class is graded.
func TestCourseCheckReadsTheOverrides(t *testing.T) {
	root := t.TempDir()
	crs := filepath.Join(root, "course.yaml")
	assert.NilError(t, os.WriteFile(crs, []byte("exercises:\n  - id: udp-server\n    file: udp-server.py\n"), 0o644))
	beside := filepath.Join(root, "overrides.yaml")
	for _, tc := range []struct {
		name, overrides string
		code            int
		stdout, stderr  string
	}{
		{name: "none beside it", code: 0, stdout: "valid course file"},
		{name: "valid", overrides: "alice:\n  - {check: udp-server/utf8, set: 1, comment: c, by: b, at: 2026-12-01}\n",
			code: 0, stdout: beside + ": valid overrides file (1 override)"},
		{name: "a check the course lacks", overrides: "alice:\n  - {check: udp-server/utf9, set: 1, comment: c, by: b, at: 2026-12-01}\n",
			code: exitUsage, stderr: beside + `:2:13: the course has no check "udp-server/utf9": did you mean "udp-server/utf8"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(beside)
			if tc.overrides != "" {
				assert.NilError(t, os.WriteFile(beside, []byte(tc.overrides), 0o644))
			}
			code, stdout, stderr := runCLI(t, "course", "check", crs)
			assert.Equal(t, code, tc.code, "%s\n%s", stdout, stderr)
			assert.Assert(t, is.Contains(stdout, tc.stdout))
			assert.Assert(t, is.Contains(stderr, tc.stderr))
		})
	}
}

// mustCourse loads a course file.
func mustCourse(t *testing.T, path string) *coursefile.Course {
	t.Helper()
	c, err := (&courseFlag{path: path}).load()
	assert.NilError(t, err)
	return c
}
