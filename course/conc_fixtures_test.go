package course_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// concExercises are the exercises of this file's fixture test.
var concExercises = []string{"tcp-forking", "tcp-threading", "tcp-tickets"}

// concGradings is how many submissions the fixture test grades at once.
// Most of a grading is spent waiting for mandated delays, and grading
// several at once is part of what the verdicts must withstand.
const concGradings = 4

// concSamples lists the reference and every fixture of the exercises.
func concSamples(t *testing.T, ids []string) []*samples.Sample {
	t.Helper()
	var exs []*graders.Exercise
	for _, id := range ids {
		ex, err := course.Registry().Get(id)
		require.NoError(t, err)
		exs = append(exs, ex)
	}
	list, err := samples.List(t.TempDir(), netgradeBin, exs, nil)
	require.NoError(t, err)
	return list
}

// concMessages says, for failing fixtures, what the failure of a check
// must say: the verdict names the student's mistake.
var concMessages = map[string]map[string]string{
	"tcp-forking/threading_server.py":      {"tcp-forking/process-per-client": "in threads, not in processes"},
	"tcp-forking/sequential_server.py":     {"tcp-forking/concurrent": "one client at a time", "tcp-forking/process-per-client": "neither a process nor a thread"},
	"tcp-forking/echo_unchanged.py":        {"tcp-forking/answers": "unchanged"},
	"tcp-forking/input_port.py":            {"tcp-forking/starts": "ended before it could listen"},
	"tcp-threading/forking_server.py":      {"tcp-threading/one-process": "forks a process per client"},
	"tcp-threading/sequential_server.py":   {"tcp-threading/concurrent": "one client at a time", "tcp-threading/one-process": "did not grow"},
	"tcp-threading/asyncio_server.py":      {"tcp-threading/one-process": "did not grow"},
	"tcp-threading/bytes_repr.py":          {"tcp-threading/answers": "bytes object"},
	"tcp-tickets/local_counter.py":         {"tcp-tickets/consecutive": "local variable of handle()"},
	"tcp-tickets/forked_counter.py":        {"tcp-tickets/consecutive": "each child increments its own copy"},
	"tcp-tickets/lock_in_handle.py":        {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/file_read_before_lock.py": {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/read_then_flock.py":       {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/threads_sleep0.py":        {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/lock_per_client.py":       {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/threads_plus_equals.py":   {"tcp-tickets/unique": "same ticket number"},
	"tcp-tickets/lock_across_sleep.py":     {"tcp-tickets/at-once": "served one after the other"},
	"tcp-tickets/missing_fstring.py":       {"tcp-tickets/ticket": "not an f-string"},
	"tcp-tickets/bare_number.py":           {"tcp-tickets/ticket": "not in the course's form"},
	"tcp-forking/turns_whole_handle.py":    {"tcp-forking/concurrent": "one client at a time"},
	"tcp-threading/lock_whole_handle.py":   {"tcp-threading/concurrent": "one client at a time"},
	"tcp-threading/no_usage.py":            {"tcp-threading/usage": "crashes"},
	"tcp-threading/port_off_by_one.py":     {"tcp-threading/starts": "but the grader asked for port"},
	"tcp-forking/port_off_by_one.py":       {"tcp-forking/starts": "but the grader asked for port"},
	"tcp-tickets/input_port.py":            {"tcp-tickets/starts": "ended before it could listen"},
}

// TestConcFixtures grades the reference and every fixture of the
// concurrent exercises: the reference and the passing fixtures get full
// marks, each failing fixture fails exactly the checks it declares (and
// says why in the words of its mistake), netgrade never errs, and every
// check fails on at least one fixture.
func TestConcFixtures(t *testing.T) {
	gradertest.NeedPython(t)
	jobs := concSamples(t, concExercises)
	opt := graders.Options{Ports: harness.NewPorts(uint64(time.Now().UnixNano())), Interpreters: pyenv.NewInterpreters()}
	graders.GradeAll(t.Context(), samples.Jobs(jobs), concGradings, opt)

	failedSomewhere := map[string]bool{}
	passing := map[string]int{}
	for _, j := range jobs {
		t.Run(j.ID, func(t *testing.T) {
			got, want := j.Failed(), j.Fails
			for _, c := range j.Result.Checks {
				assert.NotEqual(t, report.Error, c.Status, "%s: netgrade error: %s", c.ID, c.Message)
				if c.Status == report.Fail {
					failedSomewhere[c.ID] = true
				}
			}
			if !assert.Equal(t, want, got, "failing checks of %s", j.ID) {
				for _, c := range j.Result.Checks {
					if c.Status != report.Pass {
						t.Logf("%s: %s: %s (expected %q, got %q)", c.ID, c.Status, c.Message, c.Expected, c.Actual)
					}
				}
			}
			// One mistake, one deduction: a check is skipped only for a
			// declared failure it cannot run without (a prerequisite, or,
			// decided as it runs, what the declared check judges, named in
			// its message).
			// A skip so excused excuses the skips of its dependants.
			excused := slices.Clone(want)
			for _, c := range j.Result.Checks {
				if c.Status != report.Skip {
					continue
				}
				named := slices.ContainsFunc(excused, func(id string) bool {
					return c.SkippedBecause == id || (c.SkippedBecause == "" && strings.Contains(c.Message, id))
				})
				if assert.True(t, named, "%s: skipped for no declared failure: %s", c.ID, c.Message) {
					excused = append(excused, c.ID)
				}
			}
			if len(want) == 0 {
				assert.Equal(t, j.Result.MaxScore, j.Result.Score, "a passing submission gets full marks")
				assert.Empty(t, j.Result.IDs(report.Skip), "a passing submission skips no check")
				if !j.Reference() {
					passing[j.Exercise.ID]++
				}
			}
			// The race hook is active in tcp-tickets/unique, and the report
			// says so: loaded by a Python seller, not by the reference.
			if i := slices.IndexFunc(j.Result.Checks, func(c report.Check) bool { return c.ID == "tcp-tickets/unique" }); i >= 0 && j.Result.Checks[i].Status != report.Skip {
				want := "netgrade's race hook was active"
				if j.Reference() {
					want = "netgrade's race hook was not loaded"
				}
				assert.Contains(t, strings.Join(j.Result.Checks[i].Notes, "\n"), want)
			}
			for id, phrase := range concMessages[j.ID] {
				i := slices.IndexFunc(j.Result.Checks, func(c report.Check) bool { return c.ID == id })
				if assert.GreaterOrEqual(t, i, 0, "no check %s", id) {
					assert.Contains(t, j.Result.Checks[i].Message, phrase, "the failure of %s names the mistake", id)
				}
			}
		})
	}
	for _, id := range concExercises {
		ex, err := course.Registry().Get(id)
		require.NoError(t, err)
		for _, c := range ex.Checks {
			assert.True(t, failedSomewhere[c.ID], "check %s fails on no fixture: it is not proven to catch anything", c.ID)
		}
		assert.GreaterOrEqual(t, passing[id], 4, "%s needs at least 4 passing fixtures", id)
	}
	for name := range concMessages {
		assert.True(t, slices.ContainsFunc(jobs, func(j *samples.Sample) bool { return j.ID == name }), "concMessages names %s, which is no fixture", name)
	}
}

// TestTicketsRaceHookOff: a course that turns the race hook off
// (run.race_hook: false) grades tcp-tickets/unique without it, and the
// report says so.
func TestTicketsRaceHookOff(t *testing.T) {
	gradertest.NeedPython(t)
	ex, err := course.Registry().Get("tcp-tickets")
	require.NoError(t, err)
	fs, err := fixtures.For("tcp-tickets")
	require.NoError(t, err)
	i := slices.IndexFunc(fs, func(f fixtures.Fixture) bool { return f.Name == "threading_lock.py" })
	require.GreaterOrEqual(t, i, 0)
	path, err := fs[i].Write(t.TempDir())
	require.NoError(t, err)
	sub, err := graders.FileSubmission(path)
	require.NoError(t, err)
	opt := graders.Options{Course: graders.Settings{Only: []string{"tcp-tickets/unique"}, NoRaceHook: true}}
	res := ex.Grade(t.Context(), sub, opt)
	require.Len(t, res.Checks, 1)
	c := res.Checks[0]
	assert.Equal(t, report.Pass, c.Status, c.Message)
	assert.Contains(t, strings.Join(c.Notes, "\n"), "race hook is off")
}
