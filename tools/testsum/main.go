// Command testsum runs `go test -json` and shows what `go test` would
// (each package's closing line, every failing test's output in full),
// then ends with the tests that were skipped because this machine lacks a
// tool, grouped by tool, each with how to get it: a green `make test`
// then says what it did not cover. Its exit status is go test's.
//
// Usage: testsum [go test flags and packages]   ($GO, when set, is the go
// command to run)
//
// Tests say why they skip with a message that starts with "SKIPPED:"
// (the project's rule: a test that lacks something skips loudly);
// testsum reads those messages and names the tool from them.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

func main() {
	args := append([]string{"test", "-json"}, os.Args[1:]...)
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(3)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "testsum: go test: %v\n", err)
		os.Exit(3)
	}
	s := newSummary(os.Stdout)
	if err := s.read(out); err != nil {
		fmt.Fprintf(os.Stderr, "testsum: reading go test's output: %v\n", err)
	}
	werr := cmd.Wait()
	s.report()
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		os.Exit(ee.ExitCode())
	case werr != nil:
		fmt.Fprintf(os.Stderr, "testsum: go test: %v\n", werr)
		os.Exit(3)
	}
}

// event is one line of `go test -json` (test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	// ImportPath is set on build-output events.
	ImportPath string
}

// skip is one test skipped with a reason.
type skip struct {
	test   string
	reason string
}

// summary follows a go test -json stream.
type summary struct {
	w io.Writer
	// buf holds each running test's output until its end says whether
	// to show it.
	buf map[string][]string
	// pkg holds what a package shows (its failed tests' output, its own
	// lines) until it ends: go test runs packages side by side, and shows
	// each one's whole, as this does.
	pkg   map[string][]string
	skips []skip
	// silent counts the tests skipped without a SKIPPED: reason.
	silent int
	// getenv reads the environment the tests ran in.
	getenv func(string) string
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, buf: map[string][]string{}, pkg: map[string][]string{}, getenv: os.Getenv}
}

// read follows the stream to its end. A line that is no event (go's own
// message) is shown as it is.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(s.w, sc.Text())
			continue
		}
		s.event(e)
	}
	s.unfinished()
	return sc.Err()
}

// unfinished shows what the packages and tests that never ended (a test
// binary that crashed or timed out) printed, which go test would have
// shown.
func (s *summary) unfinished() {
	for _, k := range sortedKeys(s.pkg) {
		s.flush(k)
	}
	for _, k := range sortedKeys(s.buf) {
		fmt.Fprintf(s.w, "--- UNFINISHED: %s\n", k)
		for _, l := range s.buf[k] {
			fmt.Fprint(s.w, l)
		}
		delete(s.buf, k)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// flush shows what package p kept.
func (s *summary) flush(p string) {
	for _, l := range s.pkg[p] {
		fmt.Fprint(s.w, l)
	}
	delete(s.pkg, p)
}

// event handles one event.
func (s *summary) event(e event) {
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.w, e.Output)
	case e.Test == "" && e.Action == "output":
		if e.Output == "PASS\n" || strings.HasPrefix(e.Output, "=== ") {
			return
		}
		s.pkg[e.Package] = append(s.pkg[e.Package], e.Output)
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
		s.flush(e.Package)
	case e.Test == "":
	case e.Action == "output":
		s.buf[key] = append(s.buf[key], e.Output)
	case e.Action == "fail":
		for _, l := range s.buf[key] {
			if !strings.HasPrefix(l, "=== ") {
				s.pkg[e.Package] = append(s.pkg[e.Package], l)
			}
		}
		delete(s.buf, key)
	case e.Action == "skip":
		reason := ""
		for _, l := range s.buf[key] {
			if _, after, ok := strings.Cut(l, "SKIPPED:"); ok {
				reason = strings.TrimSpace(after)
				break
			}
		}
		if reason == "" {
			s.silent++
		} else {
			s.skips = append(s.skips, skip{test: e.Package + "." + e.Test, reason: reason})
		}
		delete(s.buf, key)
	case e.Action == "pass":
		delete(s.buf, key)
	}
}

// need is a tool tests may lack, how to get it, and how a skip names it.
type need struct {
	tool string
	how  string
	// env is the NETGRADE_REQUIRE_* variable that makes a test lacking
	// the tool fail instead of skip ("" when there is none).
	env string
	// words are what a skip's reason says when it lacks the tool (lower
	// case), any of them.
	words []string
}

// needs are the tools day-to-day tests use, most specific first: a skip
// is counted under the first whose word its reason holds.
var needs = []need{
	{"Docker (the docker sandbox)", "sudo apt-get install docker.io, start it, then `sudo make sandbox-image`; run as root or in the docker group (NETGRADE_REQUIRE_DOCKER=1 makes these failures)", "NETGRADE_REQUIRE_DOCKER", []string{"docker"}},
	{"network namespaces (the netns sandbox)", "run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu) (NETGRADE_REQUIRE_NETNS=1)", "NETGRADE_REQUIRE_NETNS", []string{"netns", "namespace"}},
	{"Chromium (the class report seen in a browser)", "sudo apt-get install chromium (NETGRADE_REQUIRE_CHROMIUM=1)", "NETGRADE_REQUIRE_CHROMIUM", []string{"chromium"}},
	{"libfaketime (http-server's faked clock)", "sudo apt-get install faketime (NETGRADE_REQUIRE_FAKETIME=1)", "NETGRADE_REQUIRE_FAKETIME", []string{"faketime", "clock cannot be faked"}},
	{"FastAPI and uvicorn for /usr/bin/python3", "sudo apt-get install python3-fastapi python3-uvicorn (NETGRADE_REQUIRE_FASTAPI=1)", "NETGRADE_REQUIRE_FASTAPI", []string{"fastapi", "uvicorn"}},
	{"Flask for /usr/bin/python3", "sudo apt-get install python3-flask (NETGRADE_REQUIRE_FLASK=1)", "NETGRADE_REQUIRE_FLASK", []string{"flask"}},
	{"pytz for /usr/bin/python3", "sudo apt-get install python3-tz", "", []string{"pytz"}},
	{"netcat-openbsd (the reports' try-it-yourself commands)", "sudo apt-get install netcat-openbsd (NETGRADE_REQUIRE_NC=1)", "NETGRADE_REQUIRE_NC", []string{"netcat"}},
	{"curl and swaks (real mail clients)", "sudo apt-get install curl swaks (NETGRADE_REQUIRE_MAIL_CLIENTS=1)", "NETGRADE_REQUIRE_MAIL_CLIENTS", []string{"swaks", "curl"}},
	{"tshark (captures read back)", "sudo apt-get install tshark (NETGRADE_REQUIRE_TSHARK=1)", "NETGRADE_REQUIRE_TSHARK", []string{"tshark"}},
	{"CAP_NET_RAW (loopback captures)", "run the tests as root, or grant the test binary cap_net_raw (NETGRADE_REQUIRE_CAPTURE=1)", "NETGRADE_REQUIRE_CAPTURE", []string{"cap_net_raw"}},
	{"setpriv (tests run as another user)", "sudo apt-get install util-linux; run as root", "", []string{"setpriv", "for the unprivileged user"}},
	{"root", "run the tests as root (sudo)", "", []string{"not root", "needs root"}},
	{"time (long tests)", "set NETGRADE_LONG_TESTS=1 (minutes more)", "", []string{"netgrade_long_tests"}},
	{"Python 3", "sudo apt-get install python3 (NETGRADE_REQUIRE_PYTHON=1)", "NETGRADE_REQUIRE_PYTHON", []string{"python3", "python"}},
}

// classify returns the need a skip's reason names, or nil.
func classify(reason string) *need {
	low := strings.ToLower(reason)
	for i := range needs {
		for _, w := range needs[i].words {
			if strings.Contains(low, w) {
				return &needs[i]
			}
		}
	}
	return nil
}

// maxNamed is how many test names a group shows before "and N more".
const maxNamed = 3

// report writes the skipped tests, by the tool they lacked, and nothing
// when no test skipped for a reason.
func (s *summary) report() {
	if len(s.skips) == 0 {
		return
	}
	defer func() {
		if s.silent > 0 {
			fmt.Fprintf(s.w, "  (and %s skipped for reasons of their own, such as -short)\n", tests(s.silent))
		}
	}()
	groups := map[string][]skip{}
	how := map[string]string{}
	var order []string
	deliberate := 0
	for _, sk := range s.skips {
		tool, h := "other reasons", ""
		if n := classify(sk.reason); n != nil {
			if n.env != "" && s.getenv(n.env) == "1" {
				// Where the tool is required, a test that lacks it fails:
				// one that skips cleared the requirement itself, to test
				// the skipping.
				deliberate++
				continue
			}
			tool, h = n.tool, n.how
		}
		if _, ok := groups[tool]; !ok {
			order = append(order, tool)
			how[tool] = h
		}
		groups[tool] = append(groups[tool], sk)
	}
	sort.SliceStable(order, func(i, j int) bool { return len(groups[order[i]]) > len(groups[order[j]]) })
	if deliberate > 0 {
		fmt.Fprintf(s.w, "\n(%s skipped on purpose: what they lack is required here, so they test the skipping itself)\n", tests(deliberate))
	}
	if len(order) == 0 {
		return
	}
	fmt.Fprintf(s.w, "\nSKIPPED: %s did not run on this machine; what they need and how to get it:\n", tests(len(s.skips)-deliberate))
	for _, tool := range order {
		g := groups[tool]
		fmt.Fprintf(s.w, "  %s: %s\n", tool, tests(len(g)))
		if how[tool] != "" {
			fmt.Fprintf(s.w, "    get it: %s\n", how[tool])
		}
		for i, sk := range g {
			if i == maxNamed {
				fmt.Fprintf(s.w, "    … and %d more\n", len(g)-maxNamed)
				break
			}
			fmt.Fprintf(s.w, "    %s: %s\n", sk.test, sk.reason)
		}
	}
}

// tests returns "1 test", "2 tests".
func tests(n int) string {
	if n == 1 {
		return "1 test"
	}
	return fmt.Sprintf("%d tests", n)
}
