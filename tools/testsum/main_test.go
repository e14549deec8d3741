package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stream writes events as go test -json does.
func stream(t *testing.T, evs ...event) string {
	var b strings.Builder
	for _, e := range evs {
		data, err := json.Marshal(e)
		require.NoError(t, err)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSummaryShowsFailuresAndGroupsSkipsByTool(t *testing.T) {
	const pkg = "example/p"
	in := stream(t,
		event{Action: "run", Package: pkg, Test: "TestOK"},
		event{Action: "output", Package: pkg, Test: "TestOK", Output: "=== RUN   TestOK\n"},
		event{Action: "output", Package: pkg, Test: "TestOK", Output: "    ok_test.go:3: chatter of a passing test\n"},
		event{Action: "pass", Package: pkg, Test: "TestOK"},
		event{Action: "output", Package: pkg, Test: "TestBad", Output: "=== RUN   TestBad\n"},
		event{Action: "output", Package: pkg, Test: "TestBad", Output: "    bad_test.go:9: expected 1, got 2\n"},
		event{Action: "output", Package: pkg, Test: "TestBad", Output: "--- FAIL: TestBad (0.00s)\n"},
		event{Action: "fail", Package: pkg, Test: "TestBad"},
		event{Action: "output", Package: pkg, Test: "TestFlask/each/rest-api/flask_app.py", Output: "    fixtures_test.go:143: SKIPPED: rest-api/flask_app.py needs [flask]: [flask]\n"},
		event{Action: "skip", Package: pkg, Test: "TestFlask/each/rest-api/flask_app.py"},
		event{Action: "output", Package: pkg, Test: "TestDocker", Output: "    s.go:73: SKIPPED: docker is unavailable on this machine (no docker); set NETGRADE_REQUIRE_DOCKER=1 to make this a failure\n"},
		event{Action: "skip", Package: pkg, Test: "TestDocker"},
		event{Action: "output", Package: pkg, Test: "TestDocker2", Output: "    s.go:73: SKIPPED: docker is unavailable on this machine (permission denied)\n"},
		event{Action: "skip", Package: pkg, Test: "TestDocker2"},
		event{Action: "output", Package: pkg, Test: "TestPort", Output: "    h.go:1: SKIPPED: port 8888 is in use here\n"},
		event{Action: "skip", Package: pkg, Test: "TestPort"},
		event{Action: "skip", Package: pkg, Test: "TestShort"},
		event{Action: "output", Package: pkg, Output: "FAIL\n"},
		event{Action: "output", Package: "example/q", Output: "PASS\n"},
		event{Action: "output", Package: "example/q", Output: "ok  \texample/q\t0.01s\n"},
		event{Action: "pass", Package: "example/q"},
		event{Action: "output", Package: pkg, Output: "FAIL\texample/p\t0.01s\n"},
		event{Action: "fail", Package: pkg},
	)
	var out bytes.Buffer
	s := newSummary(&out)
	s.getenv = func(string) string { return "" } // nothing required, as on a developer's machine
	require.NoError(t, s.read(strings.NewReader(in+"go: some message of go's own\n")))
	s.report()
	got := out.String()
	for _, want := range []string{
		"    bad_test.go:9: expected 1, got 2\n--- FAIL: TestBad (0.00s)\n",
		"FAIL\texample/p\t0.01s\n",
		"ok  \texample/q\t0.01s\n",
		"go: some message of go's own\n",
		"SKIPPED: 4 tests did not run on this machine; what they need and how to get it:\n",
		"  Docker (the docker sandbox): 2 tests\n    get it: sudo apt-get install docker.io",
		"  Flask for /usr/bin/python3: 1 test\n    get it: sudo apt-get install python3-flask",
		"    example/p.TestFlask/each/rest-api/flask_app.py: rest-api/flask_app.py needs [flask]: [flask]\n",
		"  other reasons: 1 test\n    example/p.TestPort: port 8888 is in use here\n",
		"(and 1 test skipped for reasons of their own",
	} {
		assert.Contains(t, got, want)
	}
	for _, never := range []string{"chatter of a passing test", "=== RUN", "PASS\n"} {
		assert.NotContains(t, got, never)
	}
	assert.Less(t, strings.Index(got, "Docker"), strings.Index(got, "Flask"), "the largest group first")
	// Packages ran side by side: each is shown whole, when it ends.
	assert.Less(t, strings.Index(got, "ok  \texample/q"), strings.Index(got, "bad_test.go:9"), "example/q ended first")
	assert.Less(t, strings.Index(got, "--- FAIL: TestBad"), strings.Index(got, "FAIL\texample/p"), "a package's failed tests come before its closing line")
}

func TestSummarySaysNothingWithoutSkips(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	require.NoError(t, s.read(strings.NewReader(stream(t, event{Action: "output", Package: "p", Output: "ok  \tp\t0.1s\n"}))))
	s.report()
	assert.Equal(t, "ok  \tp\t0.1s\n", out.String())
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ reason, tool string }{
		{"netns is unavailable on this machine (operation not permitted); set NETGRADE_REQUIRE_NETNS=1", "network namespaces (the netns sandbox)"},
		{"chromium is unavailable on this machine (no chromium on PATH (apt-get install chromium))", "Chromium (the class report seen in a browser)"},
		{"libfaketime.so.1 not found: the program's clock cannot be faked here", "libfaketime (http-server's faked clock)"},
		{"rest-api/fastapi_app.py needs [fastapi uvicorn]: [fastapi]", "FastAPI and uvicorn for /usr/bin/python3"},
		{"swaks not found on PATH (exec: not found): the servers are not tried with it", "curl and swaks (real mail clients)"},
		{"python3 not found on PATH (x): the Python fixtures cannot be graded", "Python 3"},
		{"a 60-student class in three sandboxes takes minutes; set NETGRADE_LONG_TESTS=1 to run it", "time (long tests)"},
	} {
		n := classify(tc.reason)
		require.NotNil(t, n, tc.reason)
		assert.Equal(t, tc.tool, n.tool, tc.reason)
	}
	assert.Nil(t, classify("the kernel does not show system calls here"))
}

// Where a tool is required (NETGRADE_REQUIRE_*=1), a test lacking it
// fails: a skip for it comes from a test that cleared the requirement to
// test the skipping, and is not a tool to install.
func TestSummaryTellsDeliberateSkipsApart(t *testing.T) {
	in := stream(t,
		event{Action: "output", Package: "p", Test: "TestEach/docker", Output: "    x.go:1: SKIPPED: docker is unavailable on this machine (no-netgrade); set NETGRADE_REQUIRE_DOCKER=1\n"},
		event{Action: "skip", Package: "p", Test: "TestEach/docker"},
		event{Action: "output", Package: "p", Test: "TestFlask", Output: "    x.go:1: SKIPPED: rest-api/flask_app.py needs [flask]: [flask]\n"},
		event{Action: "skip", Package: "p", Test: "TestFlask"},
	)
	var out bytes.Buffer
	s := newSummary(&out)
	s.getenv = func(k string) string {
		if k == "NETGRADE_REQUIRE_DOCKER" {
			return "1"
		}
		return ""
	}
	require.NoError(t, s.read(strings.NewReader(in)))
	s.report()
	assert.Contains(t, out.String(), "(1 test skipped on purpose: what they lack is required here")
	assert.Contains(t, out.String(), "SKIPPED: 1 test did not run on this machine")
	assert.NotContains(t, out.String(), "Docker (the docker sandbox)")
	assert.Contains(t, out.String(), "Flask for /usr/bin/python3: 1 test")
}

// A test that never ended (its binary crashed or timed out) is shown with
// what it printed.
func TestSummaryShowsUnfinishedTests(t *testing.T) {
	in := stream(t,
		event{Action: "output", Package: "p", Test: "TestHang", Output: "=== RUN   TestHang\n"},
		event{Action: "output", Package: "p", Test: "TestHang", Output: "    h.go:3: waiting for the server\n"},
		event{Action: "output", Package: "p", Output: "panic: test timed out after 30m0s\n"},
		event{Action: "output", Package: "p", Output: "FAIL\tp\t1800.1s\n"},
	)
	var out bytes.Buffer
	s := newSummary(&out)
	require.NoError(t, s.read(strings.NewReader(in)))
	assert.Contains(t, out.String(), "panic: test timed out after 30m0s\nFAIL\tp\t1800.1s\n--- UNFINISHED: p TestHang\n=== RUN   TestHang\n    h.go:3: waiting for the server\n")
}
