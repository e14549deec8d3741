package course_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netgradeBin stands in for netgrade in the submissions' commands: the
// reference implementations run as `netgradeBin ref EXERCISE ...`, as in
// real use. It is this test binary, which main_test.go's init makes answer
// `ref` (and the forking reference's hidden child command) as netgrade does.
var netgradeBin string

// shared grading options: python3 is resolved once for the whole run.
var (
	sharedOnce sync.Once
	sharedOpt  graders.Options
)

func options() graders.Options {
	sharedOnce.Do(func() {
		sharedOpt = graders.Options{Interpreters: pyenv.NewInterpreters(), Ports: harness.NewPorts(uint64(os.Getpid()))}
	})
	return sharedOpt
}

func TestMain(m *testing.M) {
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "finding the test binary, which stands in for netgrade:", err)
		os.Exit(1)
	}
	netgradeBin = bin
	os.Exit(m.Run())
}

// explain renders a result's non-passing checks for a test failure message.
func explain(r report.Result) string {
	var b strings.Builder
	for _, c := range r.Checks {
		if c.Status != report.Pass {
			fmt.Fprintf(&b, "  %s %s: %s\n    expected: %s\n    actual:   %s\n    exit: %s %s\n", c.Status, c.ID, c.Message, c.Expected, c.Actual, c.Exit, c.Traceback)
		}
	}
	return b.String()
}

// gradedElsewhere are the exercises whose samples TestConcFixtures grades
// (it also checks the words of their failures): not graded twice.
var gradedElsewhere = map[string]bool{"tcp-forking": true, "tcp-threading": true, "tcp-tickets": true}

// collateral returns what a graded sample lost beyond its declaration:
// the checks it failed without declaring them, and the checks it skipped,
// except those skipped because a declared check of category start failed
// (the program did not start, or sent nothing: nothing to probe, the one
// prerequisite principle 0 allows) and, in the day-two exercises, because
// a declared check they need failed. Of a passing sample, every failure
// and every skip is collateral. One mistake, one deduction: a fixture
// with one mistake has none.
func collateral(s *samples.Sample) (failed, skipped []string) {
	declared := map[string]bool{}
	for _, id := range s.Fails {
		declared[id] = true
	}
	for _, c := range s.Result.Checks {
		switch {
		case c.Status == report.Fail && !declared[c.ID]:
			failed = append(failed, c.ID)
		case c.Unjudged():
			// A check that could not judge the program is left out of the
			// score: it costs nothing, and is excused when what it would
			// judge is hidden by a declared mistake that it names (the
			// next-client check that fails for a server that serves one
			// client). Left out for any other reason, it is collateral.
			if !slices.ContainsFunc(s.Fails, func(id string) bool { return strings.Contains(c.Message, id) }) {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", c.ID, c.Message))
			}
		case c.Status == report.Skip:
			need := s.Exercise.Check(c.SkippedBecause)
			// Day one allows only a start check as the one prerequisite;
			// a day-two check may need another check that it truly cannot
			// run without (rest-api's concurrent-creates compares ids of
			// one store, which persists proves there is), as its docs say.
			allowed := need != nil && (need.Category == report.Start || !slices.Contains(dayOne, s.Exercise.ID))
			if c.SkippedBecause == "" || !declared[c.SkippedBecause] || !allowed {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", c.ID, c.Message))
			}
		}
	}
	return failed, skipped
}

// missed returns the checks a sample declares but did not fail.
func missed(s *samples.Sample) []string {
	var out []string
	for _, id := range s.Fails {
		if !slices.Contains(s.Failed(), id) {
			out = append(out, id)
		}
	}
	return out
}

// TestFixtures grades the reference implementation and every fixture of
// each exercise and asserts that the reference and the passing fixtures get
// full marks, that each failing fixture fails exactly the checks it
// declares and loses no other (no collateral failure or skip: one mistake,
// one deduction), says what is wrong and what to do, that netgrade never
// errs, that every check of every exercise fails on at least one fixture
// (a grader that passes everything is as broken as one that fails
// everything), and that every check of the day-one exercises has a
// single-mistake fixture, one that declares it alone.
func TestFixtures(t *testing.T) {
	gradertest.NeedPython(t)
	var exs []*graders.Exercise
	for _, ex := range course.Registry().Exercises() {
		if !gradedElsewhere[ex.ID] {
			exs = append(exs, ex)
		}
	}
	list, err := samples.List(t.TempDir(), netgradeBin, exs, nil)
	require.NoError(t, err)
	for _, s := range list {
		for _, id := range s.Fails {
			require.NotNil(t, s.Exercise.Check(id), "fixture %s declares unknown check %s", s.ID, id)
		}
	}
	t.Run("each", func(t *testing.T) {
		for _, s := range list {
			t.Run(s.ID, func(t *testing.T) {
				if s.Missing != nil {
					if fixtures.Demanded(s.Requires) {
						t.Fatalf("%s needs %v, which this machine demands: %v", s.ID, s.Requires, s.Missing)
					}
					t.Skipf("SKIPPED: %s needs %v: %v", s.ID, s.Requires, s.Missing)
				}
				t.Parallel()
				opt := options()
				if s.Course != nil {
					opt.Course = s.Course
				}
				s.Result = s.Exercise.Grade(context.Background(), s.Submission, opt)
				res := s.Result
				failed, skipped := collateral(s)
				assert.Empty(t, failed, "%s (%s) fails checks it does not declare: collateral failures of its one mistake\n%s", s.ID, s.About, explain(res))
				assert.Empty(t, skipped, "%s (%s) skips checks beyond its declaration (only a declared start check's dependants may be skipped): collateral skips of its one mistake\n%s", s.ID, s.About, explain(res))
				assert.Empty(t, missed(s), "%s (%s) passes checks it declares it fails\n%s", s.ID, s.About, explain(res))
				assert.Empty(t, res.IDs(report.Error), explain(res))
				if len(s.Fails) == 0 {
					assert.Positive(t, res.MaxScore)
					assert.Equal(t, res.MaxScore, res.Score, explain(res))
				}
				for _, c := range res.Checks {
					if c.Status == report.Fail {
						assert.NotEmpty(t, c.Message, "%s: a failure must say what is wrong", c.ID)
						assert.NotEmpty(t, c.Hint, "%s: a failure must give a hint", c.ID)
					}
				}
			})
		}
	})
	// The subtests above have all ended: their results are in the list.
	// The totals are judged of the exercises whose samples were all graded
	// (a -run pattern may pick a few).
	failedSomewhere := map[string]bool{}
	alone := map[string]int{}
	passing := map[string]int{}
	partial := map[string]bool{}
	lost, graded := 0, 0
	for _, s := range list {
		if s.Result.Exercise == "" {
			partial[s.Exercise.ID] = true
			continue
		}
		graded++
		for _, id := range s.Failed() {
			failedSomewhere[id] = true
		}
		if len(s.Fails) == 1 {
			alone[s.Fails[0]]++
		}
		if len(s.Fails) == 0 && !s.Reference() && s.Missing == nil {
			passing[s.Exercise.ID]++
		}
		failed, skipped := collateral(s)
		lost += len(failed) + len(skipped)
	}
	singles := 0
	for _, ex := range exs {
		if partial[ex.ID] {
			continue
		}
		assert.GreaterOrEqual(t, passing[ex.ID], 4, "%s needs at least 4 passing fixtures", ex.ID)
		for _, c := range ex.Checks {
			assert.True(t, failedSomewhere[c.ID], "no fixture fails %s: the check is not proven to fail", c.ID)
			if slices.Contains(dayOne, ex.ID) {
				assert.Positive(t, alone[c.ID], "no single-mistake fixture declares %s alone", c.ID)
			} else if alone[c.ID] == 0 {
				t.Logf("note: no single-mistake fixture declares %s alone yet", c.ID)
			}
			singles += alone[c.ID]
		}
	}
	t.Logf("%d samples graded, %d single-mistake fixtures; collateral failures and skips: %d", graded, singles, lost)
}

// TestNoProcessLeft grades a server fixture and then looks in /proc for
// any process still running the fixture's file.
func TestNoProcessLeft(t *testing.T) {
	path, sub := fixtureSubmission(t, "udp-server", "plain.py")
	ex, err := course.Registry().Get("udp-server")
	require.NoError(t, err)
	res := ex.Grade(context.Background(), sub, options())
	require.True(t, res.Passed(), explain(res))
	assert.Empty(t, gradertest.ProcessesMentioning(t, path), "processes of the submission are left after grading")
}

// fixtureSubmission writes the fixture name of exercise into a temporary
// folder of the test, as a student hands it in, and returns its path and
// its submission.
func fixtureSubmission(t *testing.T, exercise, name string) (string, graders.Submission) {
	t.Helper()
	fs, err := fixtures.For(exercise)
	require.NoError(t, err)
	i := slices.IndexFunc(fs, func(f fixtures.Fixture) bool { return f.Name == name })
	require.GreaterOrEqual(t, i, 0, "no fixture %s/%s", exercise, name)
	path, err := fs[i].Write(t.TempDir())
	require.NoError(t, err)
	sub, err := graders.FileSubmission(path)
	require.NoError(t, err)
	return path, sub
}

// TestTimeoutScaleReachesMessages grades a client that never ends under
// two timeout scales: netgrade waits the scaled deadline, and the failure
// names the deadline it waited, not the unscaled default. A client that
// sleeps in a blocking read of its socket cannot end: netgrade stops it
// without waiting the deadline out, and says on what it waited.
func TestTimeoutScaleReachesMessages(t *testing.T) {
	gradertest.NeedPython(t)
	ex, err := course.Registry().Get("udp-client")
	require.NoError(t, err)
	for _, tc := range []struct {
		fixture string
		scale   float64
		says    string
		waits   bool // the whole scaled deadline
	}{
		{"retries_forever.py", 1, "still running 5s after it started", true},
		{"retries_forever.py", 0.4, "still running 2s after it started", true},
		{"waits_reply.py", 1, "waits for a reply (it sleeps in recvfrom on fd", false},
	} {
		t.Run(fmt.Sprint(tc.fixture, tc.scale), func(t *testing.T) {
			t.Parallel()
			_, sub := fixtureSubmission(t, "udp-client", tc.fixture)
			opt := options()
			opt.Course = graders.Settings{TimeoutScale: tc.scale, Only: []string{"udp-client/exits"}}
			res := ex.Grade(context.Background(), sub, opt)
			require.Len(t, res.Checks, 1)
			c := res.Checks[0]
			assert.Equal(t, report.Fail, c.Status, explain(res))
			assert.Contains(t, c.Message, tc.says)
			if !tc.waits {
				return
			}
			wait := time.Duration(tc.scale * float64(probe.ExitTimeout))
			assert.GreaterOrEqual(t, time.Duration(c.DurationMS)*time.Millisecond, wait, "netgrade waits the scaled deadline")
		})
	}
}

// TestCollateral: what the fixture test counts against a fixture, on
// results made up for it (udp-client's checks): checks failed beyond the
// declaration, and checks skipped unless a declared start check they need
// failed.
func TestCollateral(t *testing.T) {
	ex, err := course.Registry().Get("udp-client")
	require.NoError(t, err)
	check := func(id string, st report.Status, because string) report.Check {
		return report.Check{ID: id, Status: st, SkippedBecause: because, Message: string(st)}
	}
	cases := []struct {
		name            string
		fails           []string
		checks          []report.Check
		failed, skipped []string
	}{
		{"the one declared check", []string{"udp-client/sends-message"},
			[]report.Check{check("udp-client/datagram", report.Pass, ""), check("udp-client/sends-message", report.Fail, ""), check("udp-client/spaces", report.Pass, "")}, nil, nil},
		{"a declared start check's dependants skipped", []string{"udp-client/datagram"},
			[]report.Check{check("udp-client/datagram", report.Fail, ""), check("udp-client/spaces", report.Skip, "udp-client/datagram")}, nil, nil},
		{"skipped after a declared check that is no start check", []string{"udp-client/sends-message"},
			[]report.Check{check("udp-client/sends-message", report.Fail, ""), check("udp-client/spaces", report.Skip, "udp-client/sends-message")}, nil, []string{"udp-client/spaces (skip)"}},
		{"a check that skips itself", []string{"udp-client/datagram"},
			[]report.Check{check("udp-client/datagram", report.Fail, ""), check("udp-client/no-stdin", report.Skip, "")}, nil, []string{"udp-client/no-stdin (skip)"}},
		{"a failure beyond the declaration", []string{"udp-client/sends-message"},
			[]report.Check{check("udp-client/sends-message", report.Fail, ""), check("udp-client/utf8", report.Fail, "")}, []string{"udp-client/utf8"}, nil},
		{"a passing fixture's skip", nil,
			[]report.Check{check("udp-client/datagram", report.Fail, ""), check("udp-client/utf8", report.Skip, "udp-client/datagram")}, []string{"udp-client/datagram"}, []string{"udp-client/utf8 (skip)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &samples.Sample{Fails: c.fails}
			s.Exercise = ex
			s.Result = report.Result{Exercise: ex.ID, Checks: c.checks}
			failed, skipped := collateral(s)
			assert.Equal(t, c.failed, failed)
			assert.Equal(t, c.skipped, skipped)
		})
	}
}
