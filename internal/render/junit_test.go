package render

import (
	"bytes"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/require"
)

// TestJUnitReadBack reads the JUnit report of the fixed results with a
// JUnit consumer library, which counts each testcase's children as GitLab,
// Jenkins and the GitHub JUnit actions do.
func TestJUnitReadBack(t *testing.T) {
	rs := fixedResults()
	var buf bytes.Buffer
	require.NoError(t, JUnit(&buf, rs))
	suites, err := junit.Ingest(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, 3, len(suites))
	want := []junit.Status{junit.StatusPassed, junit.StatusFailed, junit.StatusFailed, junit.StatusFailed, junit.StatusSkipped, junit.StatusError}
	for i, tc := range suites[0].Tests {
		c := rs[0].Checks[i]
		require.Equal(t, want[i], tc.Status, c.ID)
		require.Equal(t, "udp-server", tc.Classname)
		require.Equal(t, c.ID+": "+c.Title, tc.Name)
		require.Equal(t, time.Duration(c.DurationMS)*time.Millisecond, tc.Duration)
	}
	// The failure's body holds expected, got and the transcript; the
	// program's output is the testcase's system-out.
	body := suites[0].Tests[1].Error.Error()
	require.Contains(t, body, "expected:    [2026-03-14 10:26:53,655] client 127.0.0.1 sent \"hello\"", body)
	require.Contains(t, body, "transcript:")
	require.Equal(t, "Started server on UDP/25712\n[2026-03-14 10:26:53,655] client ('127.0.0.1', 53902) sent \"hello\"\n", suites[0].Tests[1].SystemOut)
	// What the program printed because netgrade stopped it is not its
	// output: a passing check's system-out holds none of it.
	require.Equal(t, "Started server on UDP/25711\n", suites[0].Tests[0].SystemOut)
	require.NotContains(t, body, "KeyboardInterrupt")
	require.Contains(t, suites[0].Tests[4].Message, "skipped: it needs")
	require.Equal(t, junit.Totals{Tests: 6, Passed: 1, Failed: 3, Skipped: 1, Error: 1, Duration: suites[0].Totals.Duration}, suites[0].Totals)
	require.Equal(t, 2, suites[1].Totals.Passed)
	require.Equal(t, "2", suites[0].Properties["score"])
}
