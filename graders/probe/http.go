package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/httpwire"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
)

// ReplyTimeout is the reply window: it bounds the wait for an HTTP
// response (from the request to its last byte). A correct server answers
// in milliseconds; only one that does not answer waits it out, so it is
// wide enough for a machine loaded on every core.
const ReplyTimeout = 10 * time.Second

// HTTPReadyTimeout bounds the wait for an HTTP server to listen after it
// was started: an interpreter's start and http.server's imports (under
// libfaketime too) on a loaded machine. Only a program that neither
// listens nor ends waits it out.
const HTTPReadyTimeout = 10 * time.Second

// The course texts of an HTTP exercise that say how its program is run.
const (
	// TextPort is "follow" (the default: a program that listens on
	// another port than the one it was given is followed there, with a
	// note) or "argv" (it must listen on the port it was given).
	TextPort = "port"
	// PortFollow and PortArgv are TextPort's values.
	PortFollow = "follow"
	PortArgv   = "argv"
)

// HTTPServer is a graded program that serves HTTP, as a check talks to it:
// every exchange is recorded in the check's transcript.
type HTTPServer struct {
	t *graders.T
	// P is the program.
	P *harness.Process
	// Port is the port it listens on; Given the port it was given.
	Port, Given int
	// Socket is the listening socket, as /proc shows it.
	Socket observe.Socket
}

// Followed reports whether the program listens on another port than the
// one it was given.
func (s *HTTPServer) Followed() bool { return s.Port != s.Given }

// Addr is the address a client connects to: 127.0.0.1:PORT.
func (s *HTTPServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Do sends req on a connection of its own and reads the response within
// the reply window (scaled), recording both.
func (s *HTTPServer) Do(req httpwire.Request) *httpwire.Exchange {
	ctx, cancel := context.WithTimeout(s.t.Context(), s.t.Timeout(ReplyTimeout))
	defer cancel()
	return httpwire.Do(ctx, s.Addr(), req, s.t)
}

// Get is Do for `GET path HTTP/1.1`.
func (s *HTTPServer) Get(path string) *httpwire.Exchange {
	return s.Do(httpwire.Request{Method: "GET", Path: path})
}

// Dial opens a connection to the program for several requests in a row
// (keep-alive) or for a client that holds it without sending; the caller
// closes it.
func (s *HTTPServer) Dial() (*httpwire.Conn, error) {
	ctx, cancel := context.WithTimeout(s.t.Context(), s.t.Timeout(ReplyTimeout))
	defer cancel()
	c, err := httpwire.Dial(ctx, s.Addr(), s.t)
	if err != nil {
		return nil, s.refused(err)
	}
	return c, nil
}

// refused turns a failed connection into the submission's failure when
// the program has ended or stopped listening.
func (s *HTTPServer) refused(err error) error {
	if !s.P.Running() {
		_ = s.P.WaitOutput(s.t.Context())
		return graders.Failf("the program ended (%s): nothing listens on port %d any more", s.P.Exit(), s.Port).
			WithHint("A server serves until it is stopped: serve_forever(), or accept() in a `while True:` loop.")
	}
	return graders.Failf("connecting to %s failed: %v", s.Addr(), err)
}

// StillServes checks, after what a check did to the program, that it
// still runs and answers `GET /`; after says what was done, for the
// failure message.
func (s *HTTPServer) StillServes(after string) error {
	if !s.P.Running() {
		_ = s.P.WaitOutput(s.t.Context())
		return graders.Failf("the program ended %s (%s); a server must go on serving", after, s.P.Exit()).
			WithHint("An exception in the code that reads or answers a request must not stop the server: check what you index and open, and catch what can fail.")
	}
	x := s.Get("/")
	if x.Response == nil && len(x.Raw) == 0 {
		if !s.P.Running() {
			_ = s.P.WaitOutput(s.t.Context())
			return graders.Failf("the program ended %s (%s); a server must go on serving", after, s.P.Exit()).
				WithHint("An exception in the code that reads or answers a request must not stop the server: check what you index and open, and catch what can fail.")
		}
		return graders.Failf("%s, the next client's `GET /` got no reply: %v", after, x.Err).
			Want("a reply to GET /", Curl(x))
	}
	return nil
}

// Curl is the exchange as `curl -v` shows it, for a failure's "got": `> `
// the request line and headers, `< ` the status line and headers, the
// start of the body, and `* ` lines for what went wrong.
func Curl(x *httpwire.Exchange) string {
	var lines []string
	for _, e := range x.Events() {
		if e.Kind == report.EvNote {
			lines = append(lines, "* "+e.Data)
			continue
		}
		lines = append(lines, render.EventLines(e)...)
	}
	return strings.Join(lines, "\n")
}

// StartHTTP starts the submission as an HTTP server with a fresh port as
// its {port} and env added to its environment, and waits, by reading
// /proc, until it listens on a TCP port a client on 127.0.0.1 reaches: the
// port it was given or, when it chose its own (a hard-coded 8888), that
// one, which it follows and notes (unless the course's port text is
// "argv", which makes it a failure). When the program ends first, the
// failure says why in a student's words: a module the machine lacks, an
// address that is not this machine's, a port in use.
func StartHTTP(t *graders.T, env []string) (*HTTPServer, error) {
	port, err := t.Port()
	if err != nil {
		return nil, err
	}
	p, err := t.StartEnv(map[string]string{"port": strconv.Itoa(port)}, env)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(HTTPReadyTimeout))
	defer cancel()
	sock, socks, err := waitListening(ctx, p, port)
	waited := t.Timeout(HTTPReadyTimeout)
	for graces := 0; graces < StartGraces && stillStarting(t, p, err, socks, "tcp", waited); graces++ {
		gctx, gcancel := context.WithTimeout(t.Context(), t.Timeout(StartGrace))
		sock, socks, err = waitListening(gctx, p, port)
		gcancel()
		waited += t.Timeout(StartGrace)
	}
	if err == nil {
		s := &HTTPServer{t: t, P: p, Port: sock.Port, Given: port, Socket: sock}
		if !s.Followed() {
			t.Note("the program listens on %s", sock)
			return s, nil
		}
		if t.Text(TextPort) == PortArgv {
			return nil, graders.Failf("the program listens on %s, not on the port it was given (%d)", sock, port).
				Want(fmt.Sprintf("TCP *:%d", port), sock.String()).
				WithHint("Read the port from the command line: serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 8888.")
		}
		t.Note("the program listens on %s, not on the port it was given (%d): netgrade follows it", sock, port)
		return s, nil
	}
	if t.Context().Err() != nil {
		return nil, t.Context().Err()
	}
	if errors.Is(err, observe.ErrExited) {
		return nil, startFailure(t, p, port)
	}
	if held := DescribeSockets(socks, "tcp"); held != "" {
		return nil, graders.Failf("the program %s, which a client on this machine connecting to 127.0.0.1 cannot reach", held).
			Want("TCP 127.0.0.1, 0.0.0.0 or :: on some port", strings.TrimPrefix(held, "listens on ")).
			WithHint(`Bind the host "localhost" (or "" for every address): HTTPServer(("localhost", 8888), MyServer).`)
	}
	return nil, graders.Failf("the program did not listen on a TCP port within %s", waited).
		WithHint(`Create the server before anything that waits: HTTPServer(("localhost", port), MyServer).serve_forever().`)
}

// waitListening waits until the program holds a TCP socket in LISTEN that
// a client on 127.0.0.1 reaches, preferring port; it looks at the
// program's sockets with internal/poll's backoff until ctx ends (a
// *poll.TimeoutError that says what it saw last) or the program exits
// (observe.ErrExited), and returns the sockets last seen.
func waitListening(ctx context.Context, p *harness.Process, port int) (observe.Socket, []observe.Socket, error) {
	var found observe.Socket
	var last []observe.Socket
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		socks, err := observe.Sockets(p.Pid())
		if err != nil {
			return poll.Continue("reading the program's sockets: %v", err)
		}
		last = socks
		var served []observe.Socket
		for _, s := range socks {
			if s.Proto == "tcp" && s.Listening() && s.CoversLoopback() {
				served = append(served, s)
			}
		}
		if len(served) == 0 {
			return poll.Continue("the program holds %d sockets, none a TCP server a client on 127.0.0.1 reaches", len(socks))
		}
		found = served[0]
		if i := slices.IndexFunc(served, func(s observe.Socket) bool { return s.Port == port }); i >= 0 {
			found = served[i]
		}
		return poll.Done()
	}, poll.Backoff(poll.DefaultFirst, listenLookCap), poll.StopOn(p.Done(), observe.ErrExited))
	if err != nil {
		return observe.Socket{}, last, err
	}
	return found, last, nil
}

// listenLookCap is the longest delay between two looks of waitListening.
const listenLookCap = 10 * time.Millisecond

// startFailure explains why a program ended before it listened.
func startFailure(t *graders.T, p *harness.Process, port int) error {
	_ = p.WaitOutput(t.Context())
	lines := p.Output().Lines()
	tb := pyenv.LastTraceback(lines)
	said := func(s string) bool {
		return slices.ContainsFunc(lines, func(l harness.Line) bool { return strings.Contains(strings.ToLower(l.Text), s) })
	}
	base := fmt.Sprintf("the program ended before it listened on a port (%s)", p.Exit())
	switch {
	case said("address already in use"):
		if !harness.PortFree(port) && portStolen(p, port) {
			return fmt.Errorf("%w: port %d", graders.ErrPortTaken, port)
		}
		// The port it was given is free: it bound one of its own, which
		// another program holds.
		return fmt.Errorf("%w: the program stopped with \"Address already in use\" on a port of its own choosing", graders.ErrRunAlone)
	case said("cannot assign requested address"):
		addrs := foreignAddresses(p)
		what := "an address that is not this machine's"
		if len(addrs) > 0 {
			what = strings.Join(addrs, ", ") + ", which is not an address of this machine"
		}
		return graders.Failf("the program could not start its server on %s: \"Cannot assign requested address\"", what).
			Want(`a server on "localhost" (127.0.0.1) or "" (every address)`, tracebackLine(tb, p)).
			WithHint(`A program binds the addresses of the machine it runs on: write hostName = "localhost" (or "" for every address), never your own machine's network address.`)
	case tb != nil && tb.Exception == "ModuleNotFoundError":
		mod := pyenv.MissingModule(tb.Line)
		return graders.Failf("%s: %s", base, tb.Line).
			Want("a server listening on a port", tb.Line).
			WithHint("%s", pyenv.MissingModuleHint(mod))
	}
	f := graders.Failf("%s", base).Want("a server listening on a port", tracebackLine(tb, p))
	f.Hint = "A server runs until it is stopped: run `python3 FILE` yourself and read the error it ends with."
	return f
}

// tracebackLine is the last line of the program's traceback, or what it
// printed last.
func tracebackLine(tb *pyenv.Traceback, p *harness.Process) string {
	if tb != nil {
		return tb.Line
	}
	return PrintedSince(p, max(0, p.Output().Len()-3))
}

// ipLiteral finds quoted IPv4 addresses in a program's source.
var ipLiteral = regexp.MustCompile(`["'](\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})["']`)

// foreignAddresses returns the IPv4 addresses the program's source
// writes that are not this machine's (not loopback, not unspecified, not
// on an interface here): what a bind failing with "Cannot assign requested
// address" was given.
func foreignAddresses(p *harness.Process) []string {
	var out []string
	for _, arg := range p.Argv() {
		if !strings.HasSuffix(arg, ".py") {
			continue
		}
		src, err := os.ReadFile(arg)
		if err != nil {
			continue
		}
		local := localAddresses()
		for _, m := range ipLiteral.FindAllStringSubmatch(string(src), -1) {
			ip := net.ParseIP(m[1])
			if ip == nil || ip.IsLoopback() || ip.IsUnspecified() || local[ip.String()] || slices.Contains(out, m[1]) {
				continue
			}
			out = append(out, m[1])
		}
	}
	return out
}

// localAddresses are the IP addresses of this machine's interfaces.
func localAddresses() map[string]bool {
	out := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out[n.IP.String()] = true
		}
	}
	return out
}

// NoResponse returns nil when the exchange got a response, and otherwise
// the submission's failure saying what came instead, for the request
// named what ("GET /date"): nothing within the reply window, a close or a
// reset without a reply, bytes that are not HTTP, the program's end.
func NoResponse(s *HTTPServer, x *httpwire.Exchange, what string) error {
	if x.Response != nil {
		return nil
	}
	if !s.P.Running() {
		_ = s.P.WaitOutput(s.t.Context())
		return graders.Failf("the program ended (%s) instead of answering %s", s.P.Exit(), what).
			Want("an HTTP response", Curl(x)).
			WithHint("An exception while answering must not stop the server: run it yourself, send the same request with curl -v, and read the traceback.")
	}
	var f *graders.Failure
	switch {
	case errors.Is(x.Err, httpwire.ErrNotHTTP):
		problem := x.Err.Error()
		if len(x.Problems) > 0 {
			problem = x.Problems[0].Text
		}
		f = graders.Failf("the reply to %s is not an HTTP response: %s", what, problem).
			WithHint("An HTTP response starts with a status line and headers, each line ending with \\r\\n, then a blank line: \"HTTP/1.0 200 OK\\r\\nContent-Type: text/html\\r\\n\\r\\n\" and the body.")
	case errors.Is(x.Err, httpwire.ErrClosedNoReply):
		f = graders.Failf("the program closed the connection without replying to %s", what).
			WithHint("Every request gets a response: a status line (send_response), headers, a blank line (end_headers), then the body. An exception in do_GET closes the connection without one: read the server's traceback.")
	case errors.Is(x.Err, httpwire.ErrReset):
		f = graders.Failf("the program reset the connection instead of replying to %s", what).
			WithHint("Read the whole request before closing the connection, and send a response first.")
	case errors.Is(x.Err, httpwire.ErrNoReply):
		f = graders.Failf("%s got no reply within %s", what, s.t.Timeout(ReplyTimeout)).
			WithHint("Answer every request: send_response(), end_headers(), then wfile.write() the body.")
	default:
		f = graders.Failf("%s failed: %v", what, x.Err)
	}
	return f.Want("an HTTP response", Curl(x))
}

// DoWithin is Do with its own deadline instead of the reply window (a
// named window of a check), scaled.
func (s *HTTPServer) DoWithin(req httpwire.Request, d time.Duration) *httpwire.Exchange {
	ctx, cancel := context.WithTimeout(s.t.Context(), s.t.Timeout(d))
	defer cancel()
	return httpwire.Do(ctx, s.Addr(), req, s.t)
}
