package coursefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/sockets"
	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestDefaultCourse(t *testing.T) {
	reg := course.Registry()
	c, err := Parse(course.DefaultName, course.YAML(), reg)
	assert.NilError(t, err)
	assert.Equal(t, c.Source, course.DefaultName)
	// The default course file lists every exercise of the course, in the
	// course's order.
	var ids []string
	for _, e := range course.Exercises() {
		ids = append(ids, e.ID())
	}
	assert.DeepEqual(t, c.IDs(), ids)
	assert.DeepEqual(t, ids[:9], []string{
		"udp-server", "udp-client", "tcp-server", "tcp-client", "tcp-upper",
		"tcp-waiting", "tcp-forking", "tcp-threading", "tcp-tickets",
	})
	for _, e := range c.Exercises {
		g, err := reg.Get(e.ID)
		assert.NilError(t, err)
		assert.Equal(t, e.Grader, g)
	}
	assert.Equal(t, c.Exercise("udp-server").File, "udp-server.py")
	assert.Equal(t, c.Exercise("tcp-tickets").File, "tcp-tickets.py")
}

func TestOptionsFromCourse(t *testing.T) {
	src := `
name: Test course
timeouts:
  scale: 2.5
exercises:
  - id: udp-server
    file: server.py
    texts:
      start_line: "Server up on {port}"
    visibility: after_due_date
    checks:
      usage: {points: 3, visibility: hidden}
      udp-server/timestamp: {enabled: false}
      many-clients: {timeout: 20s}
  - id: udp-client
    file: client/main.py
`
	c, err := Parse("course.yaml", []byte(src), course.Registry())
	assert.NilError(t, err)
	assert.Equal(t, c.Name, "Test course")
	set := c.Settings("udp-server")
	assert.Equal(t, set.TimeoutScale, 2.5)
	assert.DeepEqual(t, set.Texts, map[string]string{"start_line": "Server up on {port}"})
	assert.Equal(t, *set.Check("udp-server/usage").Points, 3.0)
	assert.Assert(t, set.Check("udp-server/starts").Points == nil)
	assert.Assert(t, set.Check("udp-server/timestamp").Disabled)
	assert.Equal(t, set.Check("udp-server/many-clients").Timeout, 20*time.Second)
	assert.Equal(t, set.Check("udp-server/usage").Visibility, report.Hidden)
	assert.Equal(t, set.Check("udp-server/starts").Visibility, report.AfterDueDate)
	assert.Equal(t, c.Exercise("udp-client").File, "client/main.py")
	// An exercise the course does not list keeps the defaults.
	assert.Assert(t, c.Exercise("tcp-server") == nil)
	set = c.Settings("tcp-server")
	assert.Assert(t, set.Texts == nil && set.Checks == nil)
	assert.Equal(t, set.TimeoutScale, 2.5)
}

// TestBadCourse shows that every kind of mistake is refused with its file,
// line and column and what is allowed there.
func TestBadCourse(t *testing.T) {
	head := "exercises:\n  - id: udp-server\n    file: udp-server.py\n"
	tests := []struct {
		name string
		src  string
		pos  string // "line:column" of the first error
		msg  []string
	}{
		{"syntax", "exercises: [\n  - id: udp-server\n", "", []string{"not valid YAML"}},
		{"unknown top key", "exercise:\n  - id: udp-server\n", "1:1", []string{`unknown key "exercise"`, "allowed: name, run, timeouts, exercises"}},
		{"unknown exercise", "exercises:\n  - id: udp-servr\n    file: x.py\n", "2:9", []string{`unknown exercise "udp-servr"`, "known exercises: udp-server, udp-client"}},
		{"unknown check", head + "    checks:\n      usages: {points: 2}\n", "5:7", []string{`unknown check "usages" of exercise udp-server`, "its checks: starts, start-line"}},
		{"wrong type points", head + "    checks:\n      usage: {points: two}\n", "5:23", []string{"points must be a number, not a string"}},
		{"wrong type enabled", head + "    checks:\n      usage:\n        enabled: 0\n", "6:18", []string{"enabled must be true or false, not a number"}},
		{"bad visibility", head + "    checks:\n      usage: {visibility: secret}\n", "5:27", []string{"visibility must be one of visible, hidden, after_due_date", `"secret"`}},
		{"bad timeout", head + "    checks:\n      usage: {timeout: 20}\n", "5:24", []string{"timeout must be a duration such as 20s"}},
		{"unknown check key", head + "    checks:\n      usage: {pts: 2}\n", "5:15", []string{`unknown key "pts" in check usage`, "allowed: points, enabled, visibility, timeout"}},
		{"unknown text", head + "    texts:\n      start: x\n", "5:7", []string{`unknown key "start" in texts of udp-server`, "allowed: log_line, start_line"}},
		{"unknown placeholder", head + "    texts:\n      start_line: \"Up on {prt}\"\n", "5:19", []string{"unknown placeholder {prt}", "allowed: {port}"}},
		{"bad regex", "exercises:\n  - id: tcp-tickets\n    file: t.py\n    texts:\n      ticket_pattern: 'number (\\d+'\n", "5:23", []string{"texts.ticket_pattern is not a valid regular expression", "missing closing )"}},
		{"no file", "exercises:\n  - id: udp-server\n", "2:9", []string{"exercise udp-server has no file"}},
		{"file outside", "exercises:\n  - id: udp-server\n    file: ../x.py\n", "3:11", []string{"file must be a path inside the student's folder"}},
		{"twice", head + "  - id: udp-server\n    file: b.py\n", "4:7", []string{`exercise "udp-server" is listed twice`}},
		{"scale", "timeouts:\n  scale: 0\n" + head, "2:10", []string{"timeouts.scale must be a number above 0"}},
		{"run without file", "run:\n  command: python3 {args}\n" + head, "2:12", []string{"run.command must hold {file}"}},
		{"exercises not a list", "exercises: udp-server\n", "1:12", []string{"exercises must be a list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("my-course.yaml", []byte(tc.src), course.Registry())
			assert.Assert(t, err != nil)
			text := err.Error()
			if tc.pos != "" {
				assert.Assert(t, is.Contains(text, "my-course.yaml:"+tc.pos+": "))
			} else {
				assert.Assert(t, is.Regexp(`^my-course\.yaml:\d+:\d+: `, text))
			}
			for _, m := range tc.msg {
				assert.Assert(t, is.Contains(text, m))
			}
			var es Errors
			assert.Assert(t, errors.As(err, &es))
			assert.Assert(t, es[0].Source != "", "the message quotes the line")
		})
	}
}

// TestAllErrorsReported shows that a file with several mistakes gets all
// of them, in file order.
func TestAllErrorsReported(t *testing.T) {
	src := "exercises:\n  - id: udp-server\n    file: a.py\n    checks:\n      nope: {}\n      usage: {points: x}\n"
	_, err := Parse("c.yaml", []byte(src), course.Registry())
	var es Errors
	assert.Assert(t, errors.As(err, &es))
	assert.Equal(t, len(es), 2)
	assert.Equal(t, es[0].Line, 5)
	assert.Equal(t, es[1].Line, 6)
}

// TestUnknownExercise shows that an exercise the registry lacks is refused
// with the exercises it has.
func TestUnknownExercise(t *testing.T) {
	reg := graders.NewRegistry(sockets.UDPServer())
	_, err := Parse("c.yaml", []byte("exercises:\n  - id: udp-server\n    file: s.py\n  - id: tcp-tickets\n    file: t.py\n"), reg)
	assert.ErrorContains(t, err, `unknown exercise "tcp-tickets"; known exercises: udp-server`)
}

func TestSubmission(t *testing.T) {
	dir := t.TempDir()
	py := filepath.Join(dir, "udp-server.py")
	assert.NilError(t, os.WriteFile(py, []byte("print()\n"), 0o644))
	script := filepath.Join(dir, "server")
	assert.NilError(t, os.WriteFile(script, []byte("#!/bin/sh\necho\n"), 0o755))
	noShebang := filepath.Join(dir, "plain.py")
	assert.NilError(t, os.WriteFile(noShebang, []byte("print()\n"), 0o755))

	c, err := Parse(course.DefaultName, course.YAML(), course.Registry())
	assert.NilError(t, err)
	e := c.Exercise("udp-server")
	sub, err := c.Submission(e, py)
	assert.NilError(t, err)
	assert.DeepEqual(t, sub.Command, []string{"python3", py, "{port}"})
	assert.Equal(t, sub.File, py)
	assert.Equal(t, sub.Dir, dir)

	sub, err = c.Submission(e, script)
	assert.NilError(t, err)
	assert.DeepEqual(t, sub.Command, []string{script, "{port}"})

	// Run bit but no #!: python3 runs it.
	sub, err = c.Submission(e, noShebang)
	assert.NilError(t, err)
	assert.DeepEqual(t, sub.Command, []string{"python3", noShebang, "{port}"})

	c2, err := Parse("c.yaml", []byte("run:\n  command: python3 -X utf8 {file} {args}\n  direct_when_executable: false\n"+
		"exercises:\n  - id: udp-client\n    file: c.py\n    run:\n      command: node {file}\n"+
		"  - id: udp-server\n    file: s.py\n"), course.Registry())
	assert.NilError(t, err)
	sub, err = c2.Submission(c2.Exercise("udp-server"), script)
	assert.NilError(t, err)
	assert.DeepEqual(t, sub.Command, []string{"python3", "-X", "utf8", script, "{port}"})
	sub, err = c2.Submission(c2.Exercise("udp-client"), script)
	assert.NilError(t, err)
	assert.DeepEqual(t, sub.Command, []string{"node", script})

	_, err = c.Submission(e, filepath.Join(dir, "missing.py"))
	assert.ErrorContains(t, err, "missing.py")
}
