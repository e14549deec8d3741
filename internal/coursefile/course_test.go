package coursefile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/sockets"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultCourse(t *testing.T) {
	reg := course.Registry()
	c, err := Parse(course.DefaultName, course.YAML(), reg)
	require.NoError(t, err)
	require.Equal(t, course.DefaultName, c.Source)
	var ids []string
	for _, e := range course.Exercises() {
		ids = append(ids, e.ID())
	}
	require.Equal(t, ids, c.IDs(), "the default course lists every exercise, in course order")
	require.Equal(t, []string{"udp-server", "udp-client", "tcp-server", "tcp-client", "tcp-upper"}, ids[:5])
	for _, e := range c.Exercises {
		g, err := reg.Get(e.ID)
		require.NoError(t, err)
		require.Equal(t, g, e.Grader)
	}
	require.Equal(t, "udp-server.py", c.Exercise("udp-server").File)
	require.Equal(t, "tcp-tickets.py", c.Exercise("tcp-tickets").File)
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
	require.NoError(t, err)
	require.Equal(t, "Test course", c.Name)
	set := c.Settings("udp-server")
	require.Equal(t, 2.5, set.TimeoutScale)
	require.Equal(t, map[string]string{"start_line": "Server up on {port}"}, set.Texts)
	require.Equal(t, 3.0, *set.Check("udp-server/usage").Points)
	require.Nil(t, set.Check("udp-server/starts").Points)
	require.True(t, set.Check("udp-server/timestamp").Disabled, "set.Check(\"udp-server/timestamp\").Disabled")
	require.Equal(t, 20*time.Second, set.Check("udp-server/many-clients").Timeout)
	require.Equal(t, report.Hidden, set.Check("udp-server/usage").Visibility)
	require.Equal(t, report.AfterDueDate, set.Check("udp-server/starts").Visibility)
	require.Equal(t, "client/main.py", c.Exercise("udp-client").File)
	// An exercise the course does not list keeps the defaults.
	require.Nil(t, c.Exercise("tcp-server"))
	set = c.Settings("tcp-server")
	require.True(t, set.Texts == nil && set.Checks == nil, "set.Texts == nil && set.Checks == nil")
	require.Equal(t, 2.5, set.TimeoutScale)
}

// TestRaceHookSetting: run.race_hook turns netgrade's race hook on or off
// for the whole course or for one exercise; it is on by default.
func TestRaceHookSetting(t *testing.T) {
	tickets := "exercises:\n  - id: tcp-tickets\n    file: t.py\n"
	tests := []struct {
		name string
		src  string
		// off: for tcp-tickets; courseOff: for tcp-forking, which the
		// course does not list
		off, courseOff bool
	}{
		{"default", tickets, false, false},
		{"course off", "run:\n  race_hook: false\n" + tickets, true, true},
		{"course on", "run:\n  race_hook: true\n" + tickets, false, false},
		{"exercise off", tickets + "    run:\n      race_hook: false\n", true, false},
		{"course off, exercise on", "run:\n  race_hook: false\n" + tickets + "    run:\n      race_hook: true\n", false, true},
		{"exercise run without it keeps the course's", "run:\n  race_hook: false\n" + tickets + "    run:\n      command: python3 -X dev {file} {args}\n", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.src), course.Registry())
			require.NoError(t, err)
			require.Equal(t, tc.off, c.Settings("tcp-tickets").NoRaceHook)
			require.Equal(t, tc.courseOff, c.Settings("tcp-forking").NoRaceHook, "an exercise the course does not list follows the course")
		})
	}
	var nilCourse *Course
	require.False(t, nilCourse.Settings("tcp-tickets").NoRaceHook)
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
		{"unclosed [", head + "  - id: udp-client\n    file: udp-client.py\n    checks:\n      usage: {points: 2}\n      spaces: {visibility: hidden}\n  - id: [tcp-server\n      utf8: {enabled: false} # a [ in a comment\n\n  - id: tcp-upper\n    file: 'tcp-[upper].py'\n",
			"9:9", []string{"this [ is never closed", "the YAML parser stopped at line 12"}},
		{"unclosed {", head + "    checks:\n      usage: {points: 2\n      spaces: {visibility: hidden}\n", "5:14", []string{"this { is never closed"}},
		{"unknown top key", "exercise:\n  - id: udp-server\n", "1:1", []string{`unknown key "exercise"`, "allowed: name, python, run, timeouts, interop, exercises"}},
		{"interop without points", "interop: {min_partners: 3}\n" + head, "1:10", []string{"interop needs `points:`"}},
		{"interop partners not whole", "interop: {points: 2, min_partners: 2.5}\n" + head, "1:36", []string{"interop.min_partners must be a whole number"}},
		{"unknown exercise", "exercises:\n  - id: udp-servr\n    file: x.py\n", "2:9", []string{`unknown exercise "udp-servr" (did you mean udp-server?)`, "known exercises: udp-server, udp-client"}},
		{"unknown check", head + "    checks:\n      usages: {points: 2}\n", "5:7", []string{`unknown check "usages" of exercise udp-server`, "its checks: starts, start-line"}},
		{"wrong type points", head + "    checks:\n      usage: {points: two}\n", "5:23", []string{"points must be a number, not a string"}},
		{"wrong type enabled", head + "    checks:\n      usage:\n        enabled: 0\n", "6:18", []string{"enabled must be true or false, not a number"}},
		{"bad visibility", head + "    checks:\n      usage: {visibility: secret}\n", "5:27", []string{"visibility must be one of visible, hidden, after_due_date", `"secret"`}},
		{"bad timeout", head + "    checks:\n      usage: {timeout: 20}\n", "5:24", []string{"timeout must be a duration such as 20s"}},
		{"unknown check key", head + "    checks:\n      usage: {pts: 2}\n", "5:15", []string{`unknown key "pts" in check usage`, "allowed: points, enabled, visibility, timeout"}},
		{"unknown text", head + "    texts:\n      start: x\n", "5:7", []string{`unknown key "start" in texts of udp-server`, "allowed: log_line, start_line"}},
		{"unknown placeholder", head + "    texts:\n      start_line: \"Up on {prt}\"\n", "5:19", []string{"unknown placeholder {prt}", "allowed: {port}"}},
		{"bad regex", "exercises:\n  - id: tcp-tickets\n    file: t.py\n    texts:\n      ticket_pattern: 'number (\\d+'\n", "5:23", []string{"texts.ticket_pattern is not a valid regular expression", "missing closing )"}},
		{"pattern without group", "exercises:\n  - id: tcp-tickets\n    file: t.py\n    texts:\n      ticket_pattern: 'number \\d+'\n", "5:23", []string{"texts.ticket_pattern", "has no group"}},
		{"unknown zone", "exercises:\n  - id: http-server\n    file: h.py\n    texts:\n      zone: Mars/Olympus\n", "5:13", []string{"texts.zone", `unknown time zone`, "give an IANA zone name"}},
		{"bad port rule", "exercises:\n  - id: http-server\n    file: h.py\n    texts:\n      port: eighty\n", "5:13", []string{"texts.port", `"eighty" is neither "follow"`, `nor "argv"`}},
		{"API document missing", "exercises:\n  - id: rest-api\n    file: r.py\n    texts:\n      spec: no-such-api.yaml\n", "5:13", []string{"texts.spec", "no-such-api.yaml"}},
		{"no file", "exercises:\n  - id: udp-server\n", "2:9", []string{"exercise udp-server has no file"}},
		{"file outside", "exercises:\n  - id: udp-server\n    file: ../x.py\n", "3:11", []string{"file must be a path inside the student's folder"}},
		{"bad pattern", "exercises:\n  - id: udp-server\n    file: [udp-server.py, 'udp-[server.py']\n", "3:27", []string{`file "udp-[server.py" is not a valid glob pattern`, "a [ must be closed"}},
		{"not a name", "exercises:\n  - id: udp-server\n    file: [udp-server.py, 3]\n", "3:27", []string{"file must be a name or glob pattern (a string), or a list of them; not a number"}},
		{"empty list", "exercises:\n  - id: udp-server\n    file: []\n", "3:11", []string{"file must name at least one file"}},
		{"a name twice", "exercises:\n  - id: udp-server\n    file: [a.py, a.py]\n", "3:18", []string{`file "a.py" is given twice`}},
		{"a name of two exercises", "exercises:\n  - id: udp-server\n    file: [a.py, '*udp*.py']\n  - id: udp-client\n    file: ['*udp*.py']\n", "4:7", []string{`file "*udp*.py" is given to two exercises`}},
		{"twice", head + "  - id: udp-server\n    file: b.py\n", "4:7", []string{`exercise "udp-server" is listed twice`}},
		{"scale", "timeouts:\n  scale: 0\n" + head, "2:10", []string{"timeouts.scale must be a number above 0"}},
		{"run without file", "run:\n  command: python3 {args}\n" + head, "2:12", []string{"run.command must hold {file}"}},
		{"race_hook not a boolean", "run:\n  race_hook: off please\n" + head, "2:14", []string{"run.race_hook must be true or false"}},
		{"exercises not a list", "exercises: udp-server\n", "1:12", []string{"exercises must be a list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("my-course.yaml", []byte(tc.src), course.Registry())
			require.Error(t, err)
			text := err.Error()
			if tc.pos != "" {
				require.Contains(t, text, "my-course.yaml:"+tc.pos+": ")
			} else {
				require.Regexp(t, `^my-course\.yaml:\d+:\d+: `, text)
			}
			for _, m := range tc.msg {
				require.Contains(t, text, m)
			}
			var es Errors
			require.ErrorAs(t, err, &es)
			require.True(t, es[0].Source != "", "the message quotes the line")
		})
	}
}

// TestFileNames: an exercise's file is one name or a list of names and
// glob patterns, kept in order, the first one the name messages give.
func TestFileNames(t *testing.T) {
	c, err := Parse("c.yaml", []byte("exercises:\n  - id: udp-server\n    file: udp-server.py\n  - id: tcp-tickets\n    file: [tcp-tickets.py, \"*ticket*.py\", 'selling*.py', python/tickets.py]\n"), course.Registry())
	require.NoError(t, err)
	assert.Equal(t, []string{"udp-server.py"}, c.Exercise("udp-server").Files)
	assert.Equal(t, "udp-server.py", c.Exercise("udp-server").File)
	assert.Equal(t, []string{"tcp-tickets.py", "*ticket*.py", "selling*.py", "python/tickets.py"}, c.Exercise("tcp-tickets").Files)
	assert.Equal(t, "tcp-tickets.py", c.Exercise("tcp-tickets").File)
}

// TestMissingCourseFile: a course file that does not exist is said so,
// not called invalid.
func TestMissingCourseFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), course.Registry())
	require.ErrorIs(t, err, ErrNoFile)
	require.ErrorContains(t, err, "nope.yaml: no such file")
}

// TestAllErrorsReported shows that a file with several mistakes gets all
// of them, in file order.
func TestAllErrorsReported(t *testing.T) {
	src := "exercises:\n  - id: udp-server\n    file: a.py\n    checks:\n      nope: {}\n      usage: {points: x}\n"
	_, err := Parse("c.yaml", []byte(src), course.Registry())
	var es Errors
	require.ErrorAs(t, err, &es)
	require.Equal(t, 2, len(es))
	require.Equal(t, 5, es[0].Line)
	require.Equal(t, 6, es[1].Line)
}

// TestUnknownExercise shows that an exercise the registry lacks is refused
// with the exercises it has.
func TestUnknownExercise(t *testing.T) {
	reg := graders.NewRegistry(sockets.UDPServer())
	_, err := Parse("c.yaml", []byte("exercises:\n  - id: udp-server\n    file: s.py\n  - id: tcp-tickets\n    file: t.py\n"), reg)
	require.ErrorContains(t, err, `unknown exercise "tcp-tickets"; known exercises: udp-server`)
}

func TestSubmission(t *testing.T) {
	dir := t.TempDir()
	py := filepath.Join(dir, "udp-server.py")
	require.NoError(t, os.WriteFile(py, []byte("print()\n"), 0o644))
	script := filepath.Join(dir, "server")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho\n"), 0o755))
	noShebang := filepath.Join(dir, "plain.py")
	require.NoError(t, os.WriteFile(noShebang, []byte("print()\n"), 0o755))

	c, err := Parse(course.DefaultName, course.YAML(), course.Registry())
	require.NoError(t, err)
	e := c.Exercise("udp-server")
	sub, err := c.Submission(e, py)
	require.NoError(t, err)
	require.Equal(t, []string{"python3", py, "{port}"}, sub.Command)
	require.Equal(t, py, sub.File)
	require.Equal(t, dir, sub.Dir)

	sub, err = c.Submission(e, script)
	require.NoError(t, err)
	require.Equal(t, []string{script, "{port}"}, sub.Command)

	// Run bit but no #!: python3 runs it.
	sub, err = c.Submission(e, noShebang)
	require.NoError(t, err)
	require.Equal(t, []string{"python3", noShebang, "{port}"}, sub.Command)

	c2, err := Parse("c.yaml", []byte("run:\n  command: python3 -X utf8 {file} {args}\n  direct_when_executable: false\n"+
		"exercises:\n  - id: udp-client\n    file: c.py\n    run:\n      command: node {file}\n"+
		"  - id: udp-server\n    file: s.py\n"), course.Registry())
	require.NoError(t, err)
	sub, err = c2.Submission(c2.Exercise("udp-server"), script)
	require.NoError(t, err)
	require.Equal(t, []string{"python3", "-X", "utf8", script, "{port}"}, sub.Command)
	sub, err = c2.Submission(c2.Exercise("udp-client"), script)
	require.NoError(t, err)
	require.Equal(t, []string{"node", script}, sub.Command)

	_, err = c.Submission(e, filepath.Join(dir, "missing.py"))
	require.ErrorContains(t, err, "missing.py")
}

// TestPython: the course's python key (and SetPython, which --python calls)
// makes an interpreter run every run command that starts with python3,
// the course's and an exercise's own, and leaves other commands alone.
func TestPython(t *testing.T) {
	src := "python: /usr/bin/python3\nrun:\n  command: python3 -X utf8 {file} {args}\n" +
		"exercises:\n  - id: udp-server\n    file: s.py\n  - id: udp-client\n    file: c.py\n    run:\n      command: python3 {file} {args}\n" +
		"  - id: tcp-server\n    file: t.py\n    run:\n      command: node {file}\n"
	c, err := Parse("c.yaml", []byte(src), course.Registry())
	require.NoError(t, err)
	require.Equal(t, "/usr/bin/python3", c.Python)
	require.Equal(t, []string{"/usr/bin/python3", "-X", "utf8", "{file}", "{args}"}, c.Run.Command)
	require.Equal(t, []string{"/usr/bin/python3", "{file}", "{args}"}, c.Exercise("udp-client").Run.Command)
	require.Equal(t, []string{"node", "{file}"}, c.Exercise("tcp-server").Run.Command)

	_, err = Parse("c.yaml", []byte("python: python3 -X utf8\n"+src[len("python: /usr/bin/python3\n"):]), course.Registry())
	require.ErrorContains(t, err, "python is one interpreter path")
}
