package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"
	"gotest.tools/v3/assert"
)

// TestJUnitReadBack reads the JUnit report of the fixed results with a
// JUnit consumer library, which counts each testcase's children as GitLab,
// Jenkins and the GitHub JUnit actions do.
func TestJUnitReadBack(t *testing.T) {
	rs := fixedResults()
	var buf bytes.Buffer
	assert.NilError(t, JUnit(&buf, rs))
	suites, err := junit.Ingest(buf.Bytes())
	assert.NilError(t, err)
	assert.Equal(t, len(suites), 3)
	want := []junit.Status{junit.StatusPassed, junit.StatusFailed, junit.StatusFailed, junit.StatusFailed, junit.StatusSkipped, junit.StatusError}
	for i, tc := range suites[0].Tests {
		c := rs[0].Checks[i]
		assert.Equal(t, tc.Status, want[i], c.ID)
		assert.Equal(t, tc.Classname, "udp-server")
		assert.Equal(t, tc.Name, c.ID+": "+c.Title)
		assert.Equal(t, tc.Duration, time.Duration(c.DurationMS)*time.Millisecond)
	}
	// The failure's body holds expected, got and the transcript; the
	// program's output is the testcase's system-out.
	body := suites[0].Tests[1].Error.Error()
	assert.Assert(t, strings.Contains(body, "expected:    [2026-03-14 10:26:53,655] client 127.0.0.1 sent \"hello\""), body)
	assert.Assert(t, strings.Contains(body, "transcript:"))
	assert.Equal(t, suites[0].Tests[1].SystemOut, "Started server on UDP/25712\n[2026-03-14 10:26:53,655] client ('127.0.0.1', 53902) sent \"hello\"\n")
	assert.Assert(t, strings.Contains(suites[0].Tests[4].Message, "skipped: it needs"))
	assert.DeepEqual(t, suites[0].Totals, junit.Totals{Tests: 6, Passed: 1, Failed: 3, Skipped: 1, Error: 1, Duration: suites[0].Totals.Duration})
	assert.Equal(t, suites[1].Totals.Passed, 2)
	assert.Equal(t, suites[0].Properties["score"], "2")
}
