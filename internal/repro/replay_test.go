package repro_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/gradertest"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/netgrade/netgrade/internal/samples"
	"github.com/netgrade/netgrade/internal/sockdiag"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// Bounds of a replay: a program or listener has this long to be ready, a
// command to end, and what it shows to appear.
const (
	readyTimeout = 10 * time.Second
	stepTimeout  = 30 * time.Second
	showTimeout  = 5 * time.Second
)

// replays are failing fixtures whose checks' "try it yourself" commands
// the test runs, with what their output must show: the failure the check
// describes, seen with nc, curl, faketime and netgrade serve. Every
// exercise of the course is here at least once, and every kind of step:
// datagrams and connections to a server, HTTP with curl (and under a
// faked clock), listeners for a UDP and a TCP client, and netgrade serve
// for the mail clients.
var replays = []struct {
	fixture, check string
	// shows must appear in the commands' output (raw bytes); hides must
	// not.
	shows []string
	hides []string
	// counts are how many times a text must appear: the answer the first
	// client got and the next did not; a message on the client's command
	// line and in what it printed, never from the listener.
	counts map[string]int
	// needs are the tools beyond sh, nc and python3.
	needs []string
}{
	{fixture: "udp-server/latin1_decode.py", check: "udp-server/utf8", shows: []string{`sent "cÃ¡c báº¡n"`}},
	{fixture: "udp-server/strict_decode.py", check: "udp-server/invalid-utf8", shows: []string{"UnicodeDecodeError"}},
	{fixture: "udp-server/no_usage.py", check: "udp-server/usage", shows: []string{"IndexError", "exit status: 1"}},
	{fixture: "udp-client/latin1_encode.py", check: "udp-client/utf8", shows: []string{"c\xe1c b?n"}},
	{fixture: "udp-client/never_sends.py", check: "udp-client/datagram", shows: []string{"sent b'hello'", "exit status: 0"}, counts: map[string]int{"hello": 2}},
	{fixture: "tcp-server/latin1_decode.py", check: "tcp-server/utf8", shows: []string{"cÃ¡c báº¡n"}},
	{fixture: "tcp-server/accept_once.py", check: "tcp-server/next-client", shows: []string{"first client here", "Message received"}, counts: map[string]int{"Message received": 1}},
	{fixture: "tcp-tickets/local_counter.py", check: "tcp-tickets/consecutive", shows: []string{"ticket number is 0"}, hides: []string{"ticket number is 1"}},
	{fixture: "tcp-upper/lower.py", check: "tcp-upper/upper", shows: []string{"hello, world 42"}, hides: []string{"HELLO"}},
	{fixture: "tcp-waiting/ascii_decode.py", check: "tcp-waiting/utf8", shows: []string{"UnicodeDecodeError"}},
	{fixture: "tcp-forking/echo_unchanged.py", check: "tcp-forking/answers", shows: []string{"succeeded!\nhi"}, hides: []string{"HI"}},
	{fixture: "tcp-threading/bytes_repr.py", check: "tcp-threading/answers", shows: []string{"b'HI"}},
	{fixture: "tcp-client/latin1_reply.py", check: "tcp-client/utf8", shows: []string{"cÃ¡c báº¡n"}},
	{fixture: "http-server/unknown_200.py", check: "http-server/not-found", shows: []string{"< HTTP/1.0 200 OK", "Page not found"}, needs: []string{"curl"}},
	{fixture: "http-server/single_threaded.py", check: "http-server/slow-client", shows: []string{"Operation timed out"}, needs: []string{"curl"}},
	{fixture: "http-server/static_normpath.py", check: "http-server/path-traversal", shows: []string{"< HTTP/1.0 200 OK", "os.path.normpath"}, needs: []string{"curl"}},
	// faketime's clock starts at the instant given and runs on: the page
	// shows the hour the fixed offset gives (05, Paris is at 04), and the
	// seconds the machine took between the server's start and curl's
	// request, which a busy machine makes a few.
	{fixture: "http-server/paris_fixed_offset.py", check: "http-server/paris-seasons", shows: []string{"15/01/2026 at 05:00:"}, needs: []string{"curl", "faketime"}},
	{fixture: "rest-api/404_for_405.py", check: "rest-api/method-not-allowed", shows: []string{"> PUT /api/todos HTTP/1.1", "< HTTP/1.0 404 Not Found"}, needs: []string{"curl"}},
	{fixture: "smtp-client/no_subject.py", check: "smtp-client/subject", shows: []string{"C~ From: alice@example.org", "C~ Shall we meet at noon?"}, hides: []string{"Subject:"}, needs: []string{"netgrade"}},
	{fixture: "imap-client/login_in_clear.py", check: "imap-client/starttls", shows: []string{"LOGIN student"}, hides: []string{"STARTTLS\n"}, needs: []string{"netgrade"}},
	{fixture: "pop-client/dele_read.py", check: "pop-client/keeps-mailbox", shows: []string{"C~ DELE 1"}, needs: []string{"netgrade"}},
}

// TestReplaysShowTheFailure grades each failing fixture, takes its
// failed check's Try and runs it as a student would: the commands that
// keep running in the background (their own process group), the others
// one after the other, in the fixture's folder; then it reads what they
// all printed.
func TestReplaysShowTheFailure(t *testing.T) {
	gradertest.NeedPython(t)
	need(t, "nc", "netcat-openbsd")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	var build sync.Once
	var buildErr error
	for _, tc := range replays {
		t.Run(tc.fixture, func(t *testing.T) {
			for _, tool := range tc.needs {
				switch tool {
				case "netgrade":
					build.Do(func() { buildErr = buildNetgrade(bin) })
					assert.NilError(t, buildErr)
				case "faketime":
					need(t, "faketime", "faketime")
				default:
					need(t, tool, tool)
				}
			}
			s := sample(t, dir, tc.fixture)
			var set graders.Settings
			if s.Course != nil {
				set = s.Course.Settings(s.Exercise.ID)
			}
			set.Only = []string{tc.check} // its Needs were met on this fixture
			opt := graders.Options{Interpreters: pyenv.NewInterpreters(), Course: set}
			res := s.Exercise.Grade(context.Background(), s.Submission, opt)
			c := find(res, tc.check)
			assert.Assert(t, c != nil, "no check %s", tc.check)
			assert.Equal(t, c.Status, report.Fail, "%s must fail %s: %s", tc.fixture, tc.check, c.Message)
			assert.Assert(t, c.Try != nil, "%s failed without a Try", tc.check)
			try := freshPorts(t, c.Try)
			out := replay(t, try, filepath.Dir(s.Submission.File), bin, tc.shows)
			for _, w := range tc.shows {
				assert.Assert(t, bytes.Contains(out, []byte(w)), "the commands do not show %q:\n%s\n--- output:\n%s", w, script(try), out)
			}
			for w, n := range tc.counts {
				assert.Equal(t, bytes.Count(out, []byte(w)), n, "the commands should show %q %d times:\n%s\n--- output:\n%s", w, n, script(try), out)
			}
			for _, w := range tc.hides {
				assert.Assert(t, !bytes.Contains(out, []byte(w)), "the commands show %q:\n%s\n--- output:\n%s", w, script(try), out)
			}
		})
	}
}

// need skips the test when a tool is missing, and fails it when the
// machine demands the tests that need it (NETGRADE_REQUIRE_NC=1 for nc,
// as .ci/run sets; the variables of faketime and the mail clients'
// curl otherwise).
func need(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err == nil {
		return
	}
	vars := map[string]string{"nc": "NETGRADE_REQUIRE_NC", "faketime": "NETGRADE_REQUIRE_FAKETIME", "curl": "NETGRADE_REQUIRE_MAIL_CLIENTS"}
	if v := vars[tool]; v != "" && os.Getenv(v) == "1" {
		t.Fatalf("%s is required (%s=1) but not found: install %s", tool, v, pkg)
	}
	t.Skipf("SKIPPED: %s not found (install %s): its replays cannot run", tool, pkg)
}

// buildNetgrade builds netgrade into dir, for the commands that run
// netgrade serve.
func buildNetgrade(dir string) error {
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "netgrade"), "github.com/netgrade/netgrade/cmd/netgrade")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building netgrade: %w\n%s", err, out)
	}
	return nil
}

// sample writes the fixture and returns it as a sample to grade.
func sample(t *testing.T, dir, id string) *samples.Sample {
	t.Helper()
	exID, name, _ := strings.Cut(id, "/")
	ex, err := course.Registry().Get(exID)
	assert.NilError(t, err)
	list, err := samples.List(filepath.Join(dir, "fixtures"), "netgrade", []*graders.Exercise{ex}, func(_ *graders.Exercise, fs []fixtures.Fixture) []fixtures.Fixture {
		for _, f := range fs {
			if f.Name == name {
				return []fixtures.Fixture{f}
			}
		}
		return nil
	})
	assert.NilError(t, err)
	for _, s := range list {
		if s.ID == id {
			if s.Missing != nil {
				if fixtures.Demanded(s.Requires) {
					t.Fatalf("%s needs %v, which this machine demands: %v", id, s.Requires, s.Missing)
				}
				t.Skipf("SKIPPED: %s needs %v: %v", id, s.Requires, s.Missing)
			}
			return s
		}
	}
	t.Fatalf("no fixture %s", id)
	return nil
}

func find(r report.Result, id string) *report.Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

func script(try *report.Try) string {
	var b strings.Builder
	for _, s := range try.Steps {
		fmt.Fprintf(&b, "# %s (keep: %v)\n%s\n", s.Say, s.Keep, s.Run)
	}
	return b.String()
}

// buffer is an output both the background and the foreground commands
// write into.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

// replay runs the steps in dir with bin first on PATH and returns what
// they printed. A step that keeps running starts in the background and
// the next waits until its port is bound; once the last step has ended,
// the background ones get until everything in shows is printed, then
// SIGINT (a Python server flushes what it printed on KeyboardInterrupt).
func replay(t *testing.T, try *report.Try, dir, bin string, shows []string) []byte {
	t.Helper()
	out := &buffer{}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var bg []*exec.Cmd
	defer func() {
		for _, cmd := range bg {
			stop(cmd)
		}
	}()
	for _, s := range try.Steps {
		if s.Run == "" {
			continue
		}
		fmt.Fprintf(out, "$ %s\n", s.Run)
		if s.Keep {
			cmd := exec.Command("sh", "-c", s.Run)
			cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			assert.NilError(t, cmd.Start())
			bg = append(bg, cmd)
			waitBound(t, lastPort(s.Run), out)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		cmd := exec.CommandContext(ctx, "sh", "-c", s.Run)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
		_ = cmd.Run() // a step may well end non-zero: nc when the server has gone
		late := ctx.Err() != nil
		cancel()
		assert.Assert(t, !late, "%s did not end within %s; output:\n%s", s.Run, stepTimeout, out.Bytes())
	}
	ctx, cancel := context.WithTimeout(context.Background(), showTimeout)
	defer cancel()
	_, _ = poll.Wait(ctx, func(context.Context) poll.Result {
		got := out.Bytes()
		for _, w := range shows {
			if !bytes.Contains(got, []byte(w)) {
				return poll.Continue("%q not printed yet", w)
			}
		}
		return poll.Done()
	})
	for _, cmd := range bg {
		stop(cmd)
	}
	bg = nil
	return out.Bytes()
}

// stop interrupts a background command's process group, as Ctrl-C
// would, and kills it if it has not ended a few seconds later.
func stop(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// lastPort is the last number on a command line that can be a port: the
// port the server or listener it starts takes.
func lastPort(run string) uint16 {
	var port uint16
	for _, f := range strings.Fields(run) {
		if n, err := strconv.Atoi(f); err == nil && n >= 1024 && n <= 65535 {
			port = uint16(n)
		}
	}
	return port
}

// waitBound waits until a TCP socket listens, or a UDP socket is bound,
// on 127.0.0.1:port.
func waitBound(t *testing.T, port uint16, out *buffer) {
	t.Helper()
	assert.Assert(t, port != 0, "a command that keeps running names no port")
	conn, err := sockdiag.Dial()
	assert.NilError(t, err)
	defer conn.Close()
	at := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	_, err = poll.Wait(ctx, func(context.Context) poll.Result {
		for _, p := range []sockdiag.Proto{sockdiag.TCP, sockdiag.UDP} {
			_, found, err := conn.Server(sockdiag.Query{Family: unix.AF_INET, Proto: p}, at)
			if err != nil {
				return poll.Fail(err)
			}
			if found {
				return poll.Done()
			}
		}
		return poll.Continue("nothing bound on 127.0.0.1:%d", port)
	})
	assert.NilError(t, err, "output:\n%s", out.Bytes())
}

// freshPorts returns try with each port its commands take (the ports the
// check used) replaced by a free one: a server that closed its clients'
// connections first holds the check's port in TIME_WAIT for a minute,
// and one that does not set SO_REUSEADDR cannot bind it again that soon.
// A student who replays at once meets the same; the commands are the
// same but for the number.
func freshPorts(t *testing.T, try *report.Try) *report.Try {
	t.Helper()
	out := &report.Try{Look: try.Look}
	repl := map[string]string{}
	for _, s := range try.Steps {
		if p := lastPort(s.Run); s.Keep && p != 0 {
			repl[strconv.Itoa(int(p))] = strconv.Itoa(freePort(t))
		}
	}
	for _, s := range try.Steps {
		s.Run = portWord.ReplaceAllStringFunc(s.Run, func(w string) string {
			if r, ok := repl[w]; ok {
				return r
			}
			return w
		})
		out.Steps = append(out.Steps, s)
	}
	return out
}

// portWord matches a number that stands alone: a port on a command line
// or in a URL.
var portWord = regexp.MustCompile(`\b[0-9]{4,5}\b`)

// freePort returns a port that nothing uses on 127.0.0.1, TCP or UDP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		assert.NilError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port on 127.0.0.1")
	return 0
}
