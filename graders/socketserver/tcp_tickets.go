package socketserver

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/racehook"
	"github.com/netgrade/netgrade/internal/report"
)

// DefaultTicketPattern is the course's default for the ticket_pattern text:
// where a reply holds its ticket number (the first group). It accepts
// `Your ticket number is 3`, `ticket number 3`, `Ticket number: 3`.
const DefaultTicketPattern = `(?i)ticket number(?: is)?:? *#?(\d+)`

// The loads and windows of the ticket seller's checks. Load is bounded: at
// most TicketsClients connections at once, TicketsRounds times.
const (
	// TicketsSequential is how many clients buy one after the other.
	TicketsSequential = 3
	// TicketsAtOnce is how many clients connect together in the round that
	// judges whether they are served at the same time.
	TicketsAtOnce = 5
	// TicketsClients is how many clients connect together in each round of
	// the race check, TicketsRounds times.
	TicketsClients = 20
	TicketsRounds  = 3
	// TicketsReplyWindow bounds a lone client's wait for its ticket: the
	// course's handler takes about a second to prepare one. Only a seller
	// that never answers waits it out.
	TicketsReplyWindow = 8 * time.Second
	// TicketsRoundWindow bounds a round of the race check, from its first
	// connection to its last ticket; a server that serves its clients at
	// the same time needs about one preparation time, and only one that
	// leaves clients without a ticket waits it out, so it is generous.
	TicketsRoundWindow = 20 * time.Second
	// TicketsMinPrepare is the least time a ticket must take for "served
	// at the same time" to be judged from the tickets' times: below it,
	// handlers are too short for serving one after the other to show
	// beyond the spacing of the clients' arrivals on a loaded machine. A
	// seller that reads its clients' lines is judged on a held client
	// instead, whatever its handlers' time.
	TicketsMinPrepare = 300 * time.Millisecond
	// ticketsPaceWait bounds the wait for the server to accept the previous
	// connection before the next one is made (see ticketsPace).
	ticketsPaceWait = 2 * time.Second
	// ticketsRequest is the short line every client sends: some sellers
	// wait for a line, others send the ticket first and ignore it.
	ticketsRequest = "ticket please\n"
)

// TCPTickets is the tcp-tickets exercise: a ticket seller on a forking or
// threading server; numbers unique and consecutive across all clients
// however many arrive at once, clients served at the same time.
func TCPTickets() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "tcp-tickets",
		Title: "Ticket seller",
		Usage: "tcp-tickets.py PORT",
		Args:  []string{"{port}"},
		Texts: map[string]string{"ticket_pattern": DefaultTicketPattern},
		Needs: checks.StartsID,
		TextRules: map[string]func(string) error{"ticket_pattern": func(v string) error {
			_, err := compileTicketPattern(v)
			return err
		}},
		// Its checks send many clients at once and judge their overlap, and
		// a seller may keep its counter in a file of its folder, which
		// two servers of one grading would share: one at a time.
		Sequential: true,
		// Eight ticket preparations of about a second (the reference's):
		// ticket 1, consecutive 3, at-once 1, unique 3; and the race
		// hook's delay on each client's taking of its number, which a
		// correct seller makes one client at a time (under its lock, or in
		// its one asyncio thread): 3 rounds of 20 clients.
		Floor: 8*time.Second + TicketsRounds*TicketsClients*racehook.DefaultStoreDelay,
	}
	e.Checks = []*graders.Check{
		checks.Starts("tcp", `Read the port with int(sys.argv[1]) and create the server with socketserver.ThreadingTCPServer(("", port), Handler) (or ForkingTCPServer).`).Worth(1),
		{
			ID: "ticket", Title: "sends a client its ticket number",
			Requirement: "A client that connects (and sends a short line) gets a reply holding its number, e.g. `Your ticket number is 3`.",
			Category:    report.Protocol, Points: 2,
			Hint:    `Send the number inside the text: self.request.sendall(f"Your ticket number is {number}\n".encode()).`,
			Timeout: TicketsReplyWindow + 5*time.Second,
			Run:     ticketsCheckTicket,
		},
		{
			ID: "consecutive", Title: "gives clients served one after the other consecutive numbers",
			Requirement: fmt.Sprintf("%d clients, one after the other, get consecutive numbers (N, N+1, N+2).", TicketsSequential),
			Category:    report.Protocol, Points: 2,
			Hint:    "Keep the counter where every client's handler sees the same one, and increment it for each ticket.",
			Timeout: TicketsSequential*TicketsReplyWindow + 5*time.Second,
			Run:     ticketsCheckConsecutive,
		},
		{
			ID: "at-once", Title: "serves clients at the same time",
			Requirement: fmt.Sprintf("%d clients that connect together are served at the same time: while one of them is connected and has not yet sent its line, the others are served, and their handlers overlap (the tickets are not prepared one after the other).", TicketsAtOnce),
			Category:    report.Concurrency, Points: 2,
			Hint: "Serve clients at the same time (ThreadingTCPServer or ForkingTCPServer), and hold the lock only while taking the number: not while preparing the ticket (the sleep) or sending it.",
			// The start, the pacing of the arrivals, the others' round and
			// the held client's reply.
			Timeout: probe.ReadyTimeout + TicketsAtOnce*ticketsPaceWait + 2*TicketsReplyWindow + TicketsAtOnce*(TicketsReplyWindow+time.Second) + 5*time.Second,
			Run:     ticketsCheckAtOnce,
		},
		{
			ID: "unique", Title: "sells unique, consecutive numbers to clients arriving together",
			Requirement: fmt.Sprintf("%d rounds of %d clients connecting together, each sending its line once all are connected: every client gets a ticket, and the %d numbers are all different and consecutive. "+
				"A Python seller runs under netgrade's race hook (unless the course turns it off): a fixed delay after each read from a file, before each write to one and around each file lock, and, while threads run, before each store to shared state, so that a race on the counter shows every time and a correct lock only makes the seller slower.",
				TicketsRounds, TicketsClients, TicketsRounds*TicketsClients),
			Category: report.Concurrency, Points: 3, Needs: []string{"consecutive", "at-once"},
			Hint:    "Reading the counter and writing it back must happen under one lock shared by all handlers (created once, outside handle()); with processes, a lock on the counter's file (fcntl.flock) taken before reading it.",
			Timeout: TicketsRounds*(TicketsRoundWindow+ticketsPaceWait) + 5*time.Second,
			Run:     ticketsCheckUnique,
		},
	}
	return graders.NewExercise(e)
}

// ticketsPattern compiles the course's ticket pattern.
func ticketsPattern(t *graders.T) (*regexp.Regexp, error) {
	re, err := compileTicketPattern(t.Text("ticket_pattern"))
	if err != nil {
		return nil, fmt.Errorf("the course's ticket_pattern: %w", err)
	}
	return re, nil
}

// compileTicketPattern compiles a ticket pattern, which must hold a group
// (the number): the course file's rule and the checks' compilation.
func compileTicketPattern(src string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid regular expression: %w", src, err)
	}
	if re.NumSubexp() < 1 {
		return nil, fmt.Errorf("%q has no group: put the number in parentheses, e.g. `ticket number (\\d+)`", src)
	}
	return re, nil
}

// ticketsSale is one client's purchase.
type ticketsSale struct {
	client    int
	connected time.Time
	// sent is when the client sent its request line (zero while it has
	// not): a seller that reads the line starts preparing only then.
	sent time.Time
	// answered is when the piece of the reply that completed the ticket
	// arrived (when no ticket came, the reply's last byte): not the first
	// byte, which may be a banner or a "please wait" line.
	answered time.Time
	reply    []byte
	eof      bool
	// quiet is set when the reply ended because the seller, having sent
	// something, went quiet for the idle window without a ticket.
	quiet  bool
	number int
	ok     bool // a number was read
	// formed is set when the number was read in the course's form (the
	// ticket pattern). The other checks read a number in any form (the
	// last integer of a whole reply): tcp-tickets/ticket alone judges the
	// form, and only a number in the course's form is taken for certain to
	// be the ticket's.
	formed bool
	err    error
	// window is how long the client waited for its ticket at the most
	// (scaled): the bound a failure names.
	window time.Duration
}

// ticketsNumber reads the ticket number out of a whole reply: in the
// course's form (re's first group; formed), or else the last integer of
// the reply (a "please wait for 2 seconds" line comes before the number,
// never after it).
func ticketsNumber(re *regexp.Regexp, reply []byte) (n int, formed, ok bool) {
	if m := re.FindSubmatch(reply); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			return n, true, true
		}
	}
	locs := anyNumber.FindAllIndex(reply, -1)
	if len(locs) == 0 {
		return 0, false, false
	}
	loc := locs[len(locs)-1]
	n, err := strconv.Atoi(string(reply[loc[0]:loc[1]]))
	if err != nil {
		return 0, false, false
	}
	return n, false, true
}

// ticketsJudged is the reply condition of a purchase (see
// probe.ReadReply): the length of the start of data that holds the
// ticket number in the course's form, followed by something, so that a
// number cut by a read is not taken (0 while there is none). A number in
// another form ends a reply only when the seller closes or goes quiet:
// it may be a "please wait for 2 seconds" that comes before the ticket.
func ticketsJudged(re *regexp.Regexp, data []byte) int {
	m := re.FindSubmatchIndex(data)
	if m == nil || m[1] >= len(data) || m[3] >= len(data) {
		return 0
	}
	return m[1] + 1
}

// anyNumber is a number in any form.
var anyNumber = regexp.MustCompile(`\d+`)

// replied reports whether the client got a whole reply, a number or not:
// one that holds the ticket in the course's form, or that ended (the
// seller closed or went quiet). A reply cut by the deadline (a "please
// wait" line alone) is no answer: its time is not a ticket's.
func (s *ticketsSale) replied() bool { return len(s.reply) > 0 && (s.formed || s.eof || s.quiet) }

// finish sends the request line on c (unless send is false: a client held
// silent) and reads the whole reply (probe.ReadReply): until it holds a
// ticket number in the course's form, the server closes, the seller goes
// quiet, or ctx ends. seen, if not nil, is called with the time of the
// ticket's arrival as soon as it has come, or with the reply's end.
// idle is the reply's idle window (see probe.ReadReply: 0 for
// probe.ReplyIdle, negative for none).
func (s *ticketsSale) finish(ctx context.Context, c *probe.TCPConn, re *regexp.Regexp, idle time.Duration, seen func(at time.Time)) {
	defer c.Close()
	// A seller that sends first may already have closed: a failed send is
	// not the end of the purchase.
	s.sent = time.Now()
	_ = c.Send([]byte(ticketsRequest))
	s.read(ctx, c, re, idle, seen)
}

// read reads the whole reply of a purchase on c (see finish) and reads
// the number out of it. A number in another form than the course's is
// taken only from a reply that ended (the seller closed or went quiet):
// one cut by the deadline may hold only a "please wait for 2 seconds".
func (s *ticketsSale) read(ctx context.Context, c *probe.TCPConn, re *regexp.Regexp, idle time.Duration, seen func(at time.Time)) {
	r := c.ReadReply(ctx, idle, func(d []byte) int {
		n := ticketsJudged(re, d)
		if n > 0 && seen != nil {
			seen(c.ArrivedAt(n))
			seen = nil
		}
		return n
	})
	s.reply, s.answered, s.eof, s.quiet = r.Data, r.At, r.EOF, r.Quiet
	s.number, s.formed, s.ok = ticketsNumber(re, r.Data)
	if !s.formed && !r.EOF && !r.Quiet {
		s.ok = false
	}
	if seen != nil && len(r.Data) > 0 {
		seen(r.At)
	}
}

// ticketsBuy buys one ticket from the server on port.
func ticketsBuy(t *graders.T, port int, re *regexp.Regexp, client int) *ticketsSale {
	s := &ticketsSale{client: client, window: t.Timeout(TicketsReplyWindow)}
	c, err := probe.DialTCP(t, port)
	if err != nil {
		s.err = err
		return s
	}
	s.connected = time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), s.window)
	defer cancel()
	s.finish(ctx, c, re, 0, nil)
	return s
}

// ticketsPace waits until the server has accepted every connection already
// made, with ticketsPaceWait as bound. A listening socket's accept queue is
// short (socketserver listens with a backlog of 5): a connection made while
// it is full has its SYN dropped and retried by the kernel a second or more
// later, which would spread "clients connecting together" over seconds.
// Pacing on the queue, read from /proc, keeps the arrivals as close
// together as the server can take them.
func ticketsPace(t *graders.T, pid, port int) {
	ctx, cancel := context.WithTimeout(t.Context(), ticketsPaceWait)
	defer cancel()
	_, _ = poll.Wait(ctx, func(context.Context) poll.Result {
		n, found, err := observe.ListenQueue(pid, port)
		if err != nil || !found || n == 0 {
			return poll.Done()
		}
		return poll.Continue("%d connections wait to be accepted", n)
	}, poll.Backoff(poll.DefaultFirst, ticketsPaceCap))
}

// ticketsPaceCap is the longest time between two looks at the accept
// queue: short, so that the next client connects soon after the server
// has taken the last one.
const ticketsPaceCap = 2 * time.Millisecond

// ticketsRound has n clients connect together (paced by the accept queue)
// and buy a ticket each, all within window (scaled). The clients send
// their lines only once all of them are connected: the handlers of a
// seller that reads the line before taking a number then all take it at
// the same moment, however slowly the server accepted them, and a race on
// its counter cannot hide behind the spacing of the arrivals.
func ticketsRound(t *graders.T, p *harness.Process, port int, re *regexp.Regexp, n int, window time.Duration) []*ticketsSale {
	window = t.Timeout(window)
	ctx, cancel := context.WithTimeout(t.Context(), window)
	defer cancel()
	open := make(chan struct{})
	sales := ticketsConnect(t, p, port, n, window, func(s *ticketsSale, c *probe.TCPConn) {
		<-open
		// No idle window: a client waits for its ticket while the seller
		// serves the other clients of the round, even after a "please
		// wait" line; the round's window bounds it.
		s.finish(ctx, c, re, -1, nil)
	})
	close(open)
	return sales.wait()
}

// ticketsSales are the sales of a round, each finishing in a goroutine of
// its own.
type ticketsSales struct {
	sales []*ticketsSale
	wg    sync.WaitGroup
}

// wait waits until every sale has finished and returns them.
func (r *ticketsSales) wait() []*ticketsSale {
	r.wg.Wait()
	return r.sales
}

// ticketsConnect connects n clients, each once the server has accepted the
// one before (ticketsPace), and has buy finish each connected client's
// purchase in a goroutine of its own; window is the bound a failure names.
func ticketsConnect(t *graders.T, p *harness.Process, port, n int, window time.Duration, buy func(*ticketsSale, *probe.TCPConn)) *ticketsSales {
	r := &ticketsSales{sales: make([]*ticketsSale, n)}
	for i := range n {
		s := &ticketsSale{client: i + 1, window: window}
		r.sales[i] = s
		ticketsPace(t, p.Pid(), port)
		c, err := probe.DialTCP(t, port)
		if err != nil {
			s.err = err
			continue
		}
		s.connected = time.Now()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			buy(s, c)
		}()
	}
	return r
}

// ticketsAtOnceRound is the round of tcp-tickets/at-once. Client 1 (the
// held client) connects and stays silent; clients 2 to n connect (paced
// by the accept queue) and send their lines at once. They wait up to
// TicketsReplyWindow for the first ticket, as a lone client would; once
// one has come, P (that handler's time) is known, and the others' wait
// ends when n handlers one after the other would have ended: n-1 more
// times P plus a second each, and LineTimeout (all scaled). Only then does
// the held client send its line and read its reply (up to
// TicketsReplyWindow). A seller that reads a client's line before it
// prepares the ticket has the held client's handler waiting on it all
// along: the others are served while it waits only when clients are
// served at the same time. held says whether client 1 was held: it got
// no ticket before it sent its line.
func ticketsAtOnceRound(t *graders.T, p *harness.Process, port int, re *regexp.Regexp, n int) (sales []*ticketsSale, held bool) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	window := t.Timeout(TicketsReplyWindow)
	timer := time.AfterFunc(window, cancel)
	first := true
	seen := func(s *ticketsSale) func(time.Time) {
		return func(at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			if !first || !timer.Stop() {
				return
			}
			first = false
			start := s.connected
			if s.sent.After(start) {
				start = s.sent
			}
			rest := t.Timeout(time.Duration(n-1)*(at.Sub(start)+time.Second) + probe.LineTimeout)
			timer = time.AfterFunc(time.Until(at.Add(rest)), cancel)
			window = at.Add(rest).Sub(start)
		}
	}
	// The held client: it reads what the seller sends it unasked (a seller
	// that sends first serves it without its line) until the others'
	// round is over.
	hs := &ticketsSale{client: 1, window: t.Timeout(TicketsReplyWindow)}
	ticketsPace(t, p.Pid(), port)
	hc, err := probe.DialTCP(t, port)
	heldDone := make(chan struct{})
	holdCtx, endHold := context.WithCancel(t.Context())
	defer endHold()
	var heldReply probe.Reply
	if err != nil {
		hs.err = err
		close(heldDone)
	} else {
		hs.connected = time.Now()
		t.Note("client 1 (%s) is connected and stays silent while clients 2 to %d are served", hc.LocalAddr(), n)
		go func() {
			defer close(heldDone)
			heldReply = hc.ReadReply(holdCtx, -1, func(d []byte) int { return ticketsJudged(re, d) })
		}()
	}
	open := make(chan struct{})
	others := ticketsConnect(t, p, port, n-1, window, func(s *ticketsSale, c *probe.TCPConn) {
		<-open
		// No idle window: a client waits for its ticket while the seller
		// serves the others, even after a "please wait" line.
		s.finish(ctx, c, re, -1, seen(s))
	})
	for _, s := range others.sales {
		s.client++
	}
	close(open)
	rest := others.wait()
	mu.Lock()
	timer.Stop()
	for _, s := range rest {
		s.window = window
	}
	mu.Unlock()
	endHold()
	<-heldDone
	if hc != nil {
		if heldReply.Complete() || heldReply.EOF {
			// Served without its line: the seller does not wait for it.
			hs.reply, hs.answered, hs.eof = heldReply.Data, heldReply.At, heldReply.EOF
			hs.number, hs.formed, hs.ok = ticketsNumber(re, heldReply.Data)
			hc.Close()
		} else {
			held = true
			t.Note("client 1, held silent until now, sends its line")
			hctx, hcancel := context.WithTimeout(t.Context(), hs.window)
			hs.finish(hctx, hc, re, -1, nil)
			hcancel()
		}
	}
	return append([]*ticketsSale{hs}, rest...), held
}

// ticketsStart starts the seller and compiles the pattern.
func ticketsStart(t *graders.T) (*harness.Process, int, *regexp.Regexp, error) {
	return ticketsStartEnv(t, nil)
}

// ticketsStartEnv is ticketsStart with env added to the seller's
// environment.
func ticketsStartEnv(t *graders.T, env []string) (*harness.Process, int, *regexp.Regexp, error) {
	re, err := ticketsPattern(t)
	if err != nil {
		return nil, 0, nil, err
	}
	p, port, err := probe.StartServerEnv(t, "tcp", env)
	return p, port, re, err
}

// ticketsNoTicket explains why a sale got no number.
func ticketsNoTicket(s *ticketsSale) string {
	reply := graders.Printable(s.reply)
	switch {
	case s.err != nil:
		return fmt.Sprintf("client %d could not connect: %v", s.client, s.err)
	case len(s.reply) == 0 && s.eof:
		return fmt.Sprintf("client %d: the server closed the connection without sending anything", s.client)
	case len(s.reply) == 0:
		return fmt.Sprintf("client %d got no reply within %s", s.client, s.window)
	case !s.formed && !s.eof && !s.quiet:
		return fmt.Sprintf("client %d got no ticket within %s, only: %q", s.client, s.window, reply)
	case s.quiet:
		return fmt.Sprintf("client %d got a reply without a ticket number, and then the seller went quiet for %s: %q", s.client, probe.ReplyIdle, reply)
	default:
		return fmt.Sprintf("client %d got a reply without a ticket number: %q", s.client, reply)
	}
}

// ticketsUnjudged is the verdict of a check that needs what a lone
// client did not get (its "numbers", or any "replies"): skipped, because
// tcp-tickets/ticket judges that and fails for it; this check's own
// requirement cannot be judged without them.
func ticketsUnjudged(s *ticketsSale, what string) error {
	return graders.Skipf("%s; tcp-tickets/ticket judges that, and without %s this check cannot judge its own requirement", ticketsNoTicket(s), what)
}

func ticketsCheckTicket(t *graders.T) error {
	_, port, re, err := ticketsStart(t)
	if err != nil {
		return err
	}
	s := ticketsBuy(t, port, re, 1)
	if s.formed {
		return nil
	}
	want := fmt.Sprintf("a reply holding the ticket number, e.g. `Your ticket number is 3` (the course's pattern: %s)", re)
	reply := graders.Printable(s.reply)
	switch {
	case s.err != nil:
		return graders.Failf("connecting to the server failed: %v", s.err)
	case len(s.reply) == 0 && s.eof:
		return graders.Failf("the server closed the connection without sending a ticket").Want(want, "(nothing)")
	case len(s.reply) == 0:
		return graders.Failf("the server sent nothing within %s", t.Timeout(TicketsReplyWindow)).Want(want, "(nothing)")
	case regexp.MustCompile(`\{[A-Za-z_]\w*\}`).MatchString(reply):
		return graders.Failf("the reply holds a {name} placeholder instead of the number: the string is not an f-string").Want(want, reply).
			WithHint(`Put the f prefix before the string: f"Your ticket number is {ticketcount}" — without it, Python sends the braces and the name as they are.`)
	case strings.Contains(reply, "b'") || strings.Contains(reply, `b"`):
		return graders.Failf("the reply holds the text of a bytes object (b'...')").Want(want, reply)
	case s.ok:
		return graders.Failf("the reply holds the number %d, but not in the course's form: the client cannot tell it is the ticket number", s.number).Want(want, reply).
			WithHint(`Send the number inside the course's sentence: self.request.sendall(f"Your ticket number is {number}\n".encode()).`)
	default:
		return graders.Failf("the reply holds no ticket number in the course's form").Want(want, reply)
	}
}

// ticketsWatchForks watches whether the server forks while its clients
// are served, and returns a function that stops watching and says whether
// it did. Three signs, so that a child that comes and goes between two
// looks is not missed: a child in the server's tree at a look (a look every
// ticketsForkLook at most: a course seller's child lives a second), a child
// still in the tree at the end (alive, or a zombie not reaped), and the
// server's count of its reaped children's page faults (cminflt), which
// grows each time it reaps one.
func ticketsWatchForks(t *graders.T, pid int) func() bool {
	var before uint64
	if tr, err := concReadTree(pid); err == nil {
		before = tr.root.ChildFaults
	}
	ctx, cancel := context.WithCancel(t.Context())
	seen := make(chan bool, 1)
	go func() {
		_, err := poll.Wait(ctx, func(context.Context) poll.Result {
			if tr, err := concReadTree(pid); err == nil && len(tr.children) > 0 {
				return poll.Done()
			}
			return poll.Continue("no child process")
		}, poll.Backoff(poll.DefaultFirst, ticketsForkLook))
		seen <- err == nil
	}()
	return func() bool {
		cancel()
		if <-seen {
			return true
		}
		procs, err := observe.Tree(pid)
		if err != nil {
			return false
		}
		for _, p := range procs {
			if p.PID != pid || p.ChildFaults > before {
				return true
			}
		}
		return false
	}
}

// ticketsForkLook is the longest time between two looks at the server's
// tree for a child: its end state covers the children it misses.
const ticketsForkLook = 200 * time.Millisecond

func ticketsCheckConsecutive(t *graders.T) error {
	p, port, re, err := ticketsStart(t)
	if err != nil {
		return err
	}
	forked := ticketsWatchForks(t, p.Pid())
	var nums []int
	var replies []string
	formed := true
	for i := range TicketsSequential {
		s := ticketsBuy(t, port, re, i+1)
		if !s.ok {
			forked()
			if i == 0 {
				return ticketsUnjudged(s, "numbers")
			}
			return graders.Failf("clients one after the other: %s", ticketsNoTicket(s)).
				Want(fmt.Sprintf("a ticket for each of %d clients, one after the other", TicketsSequential), fmt.Sprintf("tickets %s, then none", ticketsList(nums)))
		}
		nums = append(nums, s.number)
		replies = append(replies, fmt.Sprintf("%q", graders.Printable(s.reply)))
		formed = formed && s.formed
	}
	didFork := forked()
	want := fmt.Sprintf("%d consecutive numbers, e.g. %d, %d, %d", TicketsSequential, nums[0], nums[0]+1, nums[0]+2)
	got := ticketsList(nums)
	allSame := true
	consecutive := true
	for i := 1; i < len(nums); i++ {
		allSame = allSame && nums[i] == nums[0]
		consecutive = consecutive && nums[i] == nums[i-1]+1
	}
	// A cause is stated only from numbers read in the course's form: a
	// number in another form may be anything the replies hold (a wait
	// time), and then the cause is named as likely.
	if !formed {
		got += fmt.Sprintf(" (not in the course's form; the replies: %s)", strings.Join(replies, " | "))
	}
	switch {
	case consecutive:
		return nil
	case allSame && didFork && formed:
		return graders.Failf("every client got ticket number %d: the server forks a process per client, and each child increments its own copy of the counter, which is lost when the child ends", nums[0]).
			Want(want, got).
			WithHint("A forked child has its own copy of the parent's memory: keep the counter where every process sees it — in a file, under a lock (fcntl.flock) — or serve clients with threads (ThreadingTCPServer) and a threading.Lock.")
	case allSame && formed:
		return graders.Failf("every client got ticket number %d: the counter starts again for each client, as a local variable of handle() does", nums[0]).
			Want(want, got).
			WithHint("Keep the counter outside handle(), as a global variable (declared `global` in handle()) or an attribute of the server, so that every client's handler increments the same one.")
	case allSame && didFork:
		return graders.Failf("the replies of %d clients served one after the other all hold the number %d and none holds a number in the course's form: if %d is the ticket number, the likely cause is that each forked child increments its own copy of the counter", TicketsSequential, nums[0], nums[0]).
			Want(want, got).
			WithHint("Send the ticket in the course's form (tcp-tickets/ticket says which), and keep the counter where every process sees it: in a file under a lock (fcntl.flock), or use threads.")
	case allSame:
		return graders.Failf("the replies of %d clients served one after the other all hold the number %d and none holds a number in the course's form: if %d is the ticket number, the likely cause is a counter that starts again for each client (a local variable of handle())", TicketsSequential, nums[0], nums[0]).
			Want(want, got).
			WithHint("Send the ticket in the course's form (tcp-tickets/ticket says which), and keep the counter outside handle(), so that every client's handler increments the same one.")
	case !formed:
		return graders.Failf("clients served one after the other got replies whose numbers (none in the course's form) are not consecutive").Want(want, got)
	default:
		return graders.Failf("clients served one after the other got numbers that are not consecutive").Want(want, got)
	}
}

// ticketsList shows numbers as "3, 4, 5".
func ticketsList(nums []int) string {
	if len(nums) == 0 {
		return "none"
	}
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// ticketsOverlap returns the largest number of handler spans [end-span,
// end] that cover one instant. A seller whose handler takes span to
// prepare a ticket and serves clients one after the other answers them at
// least span apart, so spans of half that never overlap; clients served at
// the same time are answered together, and their spans overlap.
func ticketsOverlap(ends []time.Time, span time.Duration) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, e := range ends {
		edges = append(edges, edge{e.Add(-span), +1}, edge{e, -1})
	}
	// At the same instant, a span that starts counts before one that ends:
	// spans that touch overlap.
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta > edges[j].delta
	})
	most, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		most = max(most, cur)
	}
	return most
}

// ticketsStartOf returns when a sale's handler could start preparing:
// once the client had connected and, when it sent its line, sent it.
func ticketsStartOf(s *ticketsSale) time.Time {
	if s.sent.After(s.connected) {
		return s.sent
	}
	return s.connected
}

func ticketsCheckAtOnce(t *graders.T) error {
	p, port, re, err := ticketsStart(t)
	if err != nil {
		return err
	}
	// Served at the same time is judged on two kinds of evidence, neither
	// of which can race: a client held silent while the others must be
	// served (a seller that reads its clients' lines), and the times of the
	// tickets (the piece that holds each number), which a seller that
	// prepares its tickets one after the other spreads P apart. What the
	// replies hold is tcp-tickets/ticket's concern: a reply without a
	// number counts when it ends.
	sales, held := ticketsAtOnceRound(t, p, port, re, TicketsAtOnce)
	heldSale, others := sales[0], sales[1:]
	var ends []time.Time
	var missing []string
	var first *ticketsSale
	servedWhileHeld := 0
	for _, s := range others {
		if !s.replied() {
			missing = append(missing, ticketsNoTicket(s))
			continue
		}
		servedWhileHeld++
		ends = append(ends, s.answered)
		if first == nil || s.answered.Sub(ticketsStartOf(s)) < first.answered.Sub(ticketsStartOf(first)) {
			first = s
		}
	}
	if !held && heldSale.replied() {
		// Client 1 was served without sending: it held nothing, and its
		// ticket counts with the others'.
		ends = append(ends, heldSale.answered)
		if first == nil || heldSale.answered.Sub(heldSale.connected) < first.answered.Sub(ticketsStartOf(first)) {
			first = heldSale
		}
	}
	if held && servedWhileHeld == 0 {
		if !heldSale.replied() {
			return ticketsUnjudged(sales[1], "replies")
		}
		return graders.Failf("the server serves one client at a time: while client 1 was connected and had not yet sent its line, none of the %d other clients got a reply within %s; once client 1 sent its line, it was answered %s",
			TicketsAtOnce-1, others[0].window.Round(time.Millisecond), concAt(t, heldSale.answered)).
			Want(fmt.Sprintf("the other %d clients served while client 1 waits", TicketsAtOnce-1), "no reply to any of them while client 1 was connected").
			WithHint("A server that serves one client at a time (socketserver.TCPServer, or a lock held while a client's line is read) makes every client wait for the one before: use ThreadingTCPServer or ForkingTCPServer, and hold the lock only while taking the number.")
	}
	if first == nil {
		return ticketsUnjudged(heldSale, "replies")
	}
	prep := first.answered.Sub(ticketsStartOf(first))
	t.Note("the client served first got its ticket %d ms after it could be served: the time one handler takes", prep.Milliseconds())
	if len(missing) > 0 {
		return graders.Failf("of %d clients connecting together, %d got no reply: %s", TicketsAtOnce, len(missing), strings.Join(missing, "; ")).
			Want(fmt.Sprintf("a reply for each of %d clients", TicketsAtOnce), fmt.Sprintf("%d replies", len(ends)))
	}
	if prep < TicketsMinPrepare {
		if held {
			t.Note("%d clients were served while client 1 was connected and silent: clients are served at the same time (a ticket takes too little time, under %s, for its preparation to show more)", servedWhileHeld, TicketsMinPrepare)
			return nil
		}
		return graders.NotJudgedf("the seller answers a client without waiting for its line, and a ticket takes %d ms, under %s: whether clients are served one after the other shows neither in a held client nor in the tickets' times", prep.Milliseconds(), TicketsMinPrepare)
	}
	span := prep / 2
	if most := ticketsOverlap(ends, span); most >= 2 {
		t.Note("up to %d of the %d handlers ran at the same time", most, len(ends))
		return nil
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i].Before(ends[j]) })
	var at []string
	for _, e := range ends {
		at = append(at, concAt(t, e))
	}
	return graders.Failf("%d clients that connected together were served one after the other: a ticket takes about %.1f s to prepare, and the tickets came one at a time (%s), never two handlers at the same time",
		len(ends), prep.Seconds(), strings.Join(at, ", ")).
		Want(fmt.Sprintf("the %d tickets together, about %.1f s after connecting", len(ends), prep.Seconds()), "one ticket at a time").
		WithHint("A lock held while the ticket is prepared (time.sleep) or sent makes clients wait for each other: take the number under the lock, release it, then prepare and send. A plain TCPServer also serves one client at a time: use ThreadingTCPServer or ForkingTCPServer.")
}

func ticketsCheckUnique(t *graders.T) error {
	env, done, err := racehook.ForCheck(t)
	if err != nil {
		return err
	}
	defer done()
	p, port, re, err := ticketsStartEnv(t, env)
	if err != nil {
		return err
	}
	var all []*ticketsSale
	for r := range TicketsRounds {
		sales := ticketsRound(t, p, port, re, TicketsClients, TicketsRoundWindow)
		var nums []int
		for _, s := range sales {
			if s.ok {
				nums = append(nums, s.number)
			}
		}
		sort.Ints(nums)
		t.Note("round %d: %d clients connected together, %d tickets: %s", r+1, TicketsClients, len(nums), ticketsSummary(nums))
		all = append(all, sales...)
		if t.Context().Err() != nil {
			return t.Context().Err()
		}
	}
	return ticketsJudgeUnique(all)
}

// ticketsJudgeUnique judges the numbers of every sale: one each, all
// different, no gap.
func ticketsJudgeUnique(all []*ticketsSale) error {
	var nums []int
	var missing []string
	for _, s := range all {
		if s.ok {
			nums = append(nums, s.number)
		} else {
			missing = append(missing, ticketsNoTicket(s))
		}
	}
	sort.Ints(nums)
	total := len(all)
	want := fmt.Sprintf("%d different, consecutive numbers", total)
	if len(nums) > 0 {
		want = fmt.Sprintf("%d different, consecutive numbers (%d to %d)", total, nums[0], nums[0]+total-1)
	}
	seen := "numbers seen: " + ticketsSummary(nums)
	if len(missing) > 0 {
		shown := missing
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("… %d more", len(missing)-5))
		}
		return graders.Failf("%d of %d clients, %d connecting together at a time, got no ticket: %s", len(missing), total, TicketsClients, strings.Join(shown, "; ")).
			Want(want, seen)
	}
	dups, gaps := ticketsDupsGaps(nums)
	switch {
	case len(dups) > 0:
		return graders.Failf("clients connecting together got the same ticket number: %s sold more than once (a race on the counter: two handlers read it before either wrote it back)", ticketsList(dups)).
			Want(want, seen)
	case len(gaps) > 0:
		return graders.Failf("the numbers sold have gaps: %s never sold", ticketsList(gaps)).Want(want, seen)
	}
	return nil
}

// ticketsDupsGaps returns the numbers sold more than once and the numbers
// missing between the smallest and the largest, of sorted nums.
func ticketsDupsGaps(nums []int) (dups, gaps []int) {
	for i := 1; i < len(nums); i++ {
		switch d := nums[i] - nums[i-1]; {
		case d == 0 && (len(dups) == 0 || dups[len(dups)-1] != nums[i]):
			dups = append(dups, nums[i])
		case d > 1:
			for n := nums[i-1] + 1; n < nums[i] && len(gaps) < 100; n++ {
				gaps = append(gaps, n)
			}
		}
	}
	return dups, gaps
}

// ticketsSummary shows sorted numbers compactly: runs as "1-20", repeats
// as "7×3": "1-5, 6×2, 7-9".
func ticketsSummary(nums []int) string {
	if len(nums) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[i] {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d×%d", nums[i], j-i+1))
			i = j + 1
			continue
		}
		// A run of distinct consecutive numbers.
		k := i
		for k+1 < len(nums) && nums[k+1] == nums[k]+1 && (k+2 >= len(nums) || nums[k+2] != nums[k+1]) {
			k++
		}
		if k > i {
			parts = append(parts, fmt.Sprintf("%d-%d", nums[i], nums[k]))
		} else {
			parts = append(parts, strconv.Itoa(nums[i]))
		}
		i = k + 1
	}
	return strings.Join(parts, ", ")
}
