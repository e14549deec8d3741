package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/stretchr/testify/require"
)

// demoList is three graded samples of one exercise: the reference, one
// that fails as it declares, one that passes.
func demoList() []*samples.Sample {
	ex := &graders.Exercise{ID: "udp-client", Title: "UDP client"}
	mk := func(id string, fails []string, statuses ...report.Status) *samples.Sample {
		s := &samples.Sample{ID: "udp-client/" + id, Fails: fails, About: "what " + id + " shows"}
		s.Exercise = ex
		s.Submission = graders.Submission{Name: "fixtures/udp-client/" + id}
		s.Result = report.Result{Exercise: "udp-client", Submission: id}
		for i, st := range statuses {
			s.Result.Checks = append(s.Result.Checks, report.Check{ID: []string{"udp-client/sends-message", "udp-client/exits"}[i], Title: "t", Status: st, MaxPoints: 1, Message: "wrong"})
		}
		s.Result.Tally()
		return s
	}
	return []*samples.Sample{
		mk("reference", nil, report.Pass, report.Pass),
		mk("never_sends.py", []string{"udp-client/sends-message"}, report.Fail, report.Pass),
		mk("plain.py", nil, report.Pass, report.Pass),
	}
}

// TestDemoEndsWithTheVerdictTable: the demo shows one full failing
// report, then the table of every verdict, last, ending with the count.
func TestDemoEndsWithTheVerdictTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, demoSummary(&b, demoList()))
	out := b.String()
	require.Equal(t, 1, strings.Count(out, "── Report of a failing sample"), "one full report")
	report := strings.Index(out, "── Report of a failing sample, fixtures/udp-client/never_sends.py")
	table := strings.Index(out, "── Every verdict against what the sample declares")
	require.True(t, report >= 0 && table > report, "the report, then the table:\n%s", out)
	lines := strings.Split(strings.TrimRight(out[table:], "\n"), "\n")
	require.Equal(t, "All 3 verdicts are as the samples declare.", lines[len(lines)-1])
	require.Regexp(t, `never_sends.py +1/2 +sends-message +as declared`, out[table:])
	require.NotContains(t, out[table:], "✘", "no report after the table")
}

// TestDemoProgress: without a terminal, a line per graded sample as it is
// graded; a verdict that differs from its declaration says so.
func TestDemoProgress(t *testing.T) {
	list := demoList()
	list[2].Fails = []string{"udp-client/exits"}
	var b bytes.Buffer
	p := newDemoProgress(&b, false, len(list))
	for i, s := range list {
		p.done(i+1, s)
	}
	p.finish()
	require.Equal(t, "[1/3] udp-client/reference: 2/2, as declared\n[2/3] udp-client/never_sends.py: 1/2, as declared\n[3/3] udp-client/plain.py: 2/2, NOT AS DECLARED\n", b.String())
}

// TestDemoShowsProgressAtOnce: the demo says what it grades within 2 s of
// starting, before any grading ends.
func TestDemoShowsProgressAtOnce(t *testing.T) {
	cmd := exec.Command(bin, "demo", "--exercise", "udp-client")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	begin := time.Now()
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	require.Less(t, time.Since(begin), 2*time.Second, "first line: %q", line)
	require.Contains(t, line, "netgrade demo: grading ")
}
