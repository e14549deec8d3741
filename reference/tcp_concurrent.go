package reference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ChildCommand is the hidden subcommand the forking reference re-executes
// netgrade with for each accepted connection: `netgrade __ref-child
// tcp-forking`, the connection handed over as file descriptor 3. It is not
// for users; cmd/netgrade registers it hidden, and programs that re-execute
// themselves as netgrade (tests, tools) route it through Dispatch.
const ChildCommand = "__ref-child"

// childConnFD is the descriptor the connection arrives on in a child: the
// first of exec.Cmd.ExtraFiles.
const childConnFD = 3

// TicketPrepare is how long the ticket reference takes to "prepare" a
// ticket after taking its number, as the course's ticket seller does: it
// makes the handlers of clients that arrive together overlap, which is what
// the grader observes.
const TicketPrepare = time.Second

// ticketReadWait bounds how long the ticket reference waits for the
// client's line before selling the ticket anyway (a client may send
// nothing and just read).
const ticketReadWait = 2 * time.Second

// concWriter serialises writes of concurrent handlers, one line each.
type concWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *concWriter) Printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format, args...)
}

// concSleep waits d or until ctx ends; it reports whether d passed.
func concSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// concHandleWaiting is the handler of the waiting server the concurrent
// exercises build on: receive once (recv(1024)), strip, wait one second
// per byte, print what it does, answer the data upper-cased, close.
func concHandleWaiting(ctx context.Context, conn net.Conn, out *concWriter) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 1024)
	n, _ := conn.Read(buf)
	data := bytes.TrimSpace(buf[:n])
	ip := clientIP(conn)
	out.Printf("%s waiting for %d seconds\n", ip, len(data))
	if !concSleep(ctx, time.Duration(len(data))*time.Second) {
		return
	}
	out.Printf("%s answered\n", ip)
	_, _ = conn.Write(bytes.ToUpper(data))
}

// TCPForking is the waiting server made concurrent with one process per
// client, as ForkingTCPServer does: for each connection it starts a child
// process (netgrade itself, re-executed with ChildCommand) and hands it
// the socket, then closes its own copy and accepts the next client.
func TCPForking(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot find netgrade's own executable to start a child: %v\n", cmd.Name, err)
		return 1
	}
	var children sync.WaitGroup
	defer children.Wait()
	for {
		conn, code, ok := acceptNext(ctx, cmd.Name, ln, stderr)
		if !ok {
			return code
		}
		f, err := conn.File()
		conn.Close()
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
			continue
		}
		child := exec.Command(self, ChildCommand, "tcp-forking")
		child.ExtraFiles = []*os.File{f}
		child.Stdout, child.Stderr = stdout, stderr
		err = child.Start()
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "%s: starting a child: %v\n", cmd.Name, err)
			continue
		}
		children.Add(1)
		go func() {
			defer children.Done()
			_ = child.Wait()
		}()
	}
}

// RunChild is the child side of TCPForking: it serves the one connection
// it was handed on descriptor 3 and exits.
func RunChild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "tcp-forking" {
		fmt.Fprintf(stderr, "%s is started by `netgrade ref tcp-forking` for each client; it is not meant to be run by hand\n", ChildCommand)
		return 2
	}
	f := os.NewFile(childConnFD, "connection")
	if f == nil {
		fmt.Fprintf(stderr, "%s: no connection on descriptor %d\n", ChildCommand, childConnFD)
		return 2
	}
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(stderr, "%s: descriptor %d is not a connection: %v\n", ChildCommand, childConnFD, err)
		return 2
	}
	concHandleWaiting(ctx, conn, &concWriter{w: stdout})
	return 0
}

// TCPThreading is the waiting server made concurrent with one thread per
// client in one process, as ThreadingTCPServer does. Each handler runs
// locked to an OS thread of its own (the thread ends with it), and the
// process keeps, while clients are being served, at least one thread per
// handler more than it had when none was: what /proc shows of Python's
// ThreadingTCPServer (see concThreads).
func TCPThreading(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	out := &concWriter{w: stdout}
	threads := &concThreads{}
	var handlers sync.WaitGroup
	defer handlers.Wait()
	for {
		conn, code, ok := acceptNext(ctx, cmd.Name, ln, stderr)
		if !ok {
			return code
		}
		threads.arrive()
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			// No UnlockOSThread: the thread exits with the handler.
			runtime.LockOSThread()
			defer threads.leave(threads.enter())
			concHandleWaiting(ctx, conn, out)
		}()
	}
}

// concThreads keeps the thread count of the threading reference at least
// "threads when no handler ran" plus "handlers running". Locking a
// goroutine to a thread is not enough for that: the Go runtime keeps the
// threads it no longer needs, idle, and gives one to the next goroutine
// that locks, so the count may not grow at all. A handler whose count falls
// short locks idle threads under filler goroutines, parked until it ends,
// until the count grows.
type concThreads struct {
	mu     sync.Mutex
	active int
	base   int // thread count last seen with no handler running
}

// arrive is called by the accept loop before it starts a handler.
func (c *concThreads) arrive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active == 0 {
		if n, err := concThreadCount(); err == nil {
			c.base = max(c.base, n)
		}
	}
	c.active++
}

// enter is called by a handler locked to its thread; it returns the
// channel that releases the fillers it had to start.
func (c *concThreads) enter() chan struct{} {
	release := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	// Each filler takes one more thread out of the runtime's idle ones; a
	// bound keeps a /proc that lies from spinning this forever.
	for range 64 {
		n, err := concThreadCount()
		if err != nil || n >= c.base+c.active {
			break
		}
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread() // ends with the goroutine, as the handler's
			close(locked)
			<-release
		}()
		<-locked
	}
	return release
}

// leave is called when a handler ends.
func (c *concThreads) leave(release chan struct{}) {
	close(release)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
}

// concThreadCount returns the number of OS threads of this process.
func concThreadCount() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no Threads line in /proc/self/status")
}

// concCounter hands out consecutive ticket numbers under a lock.
type concCounter struct {
	mu   sync.Mutex
	next int
}

func (c *concCounter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next
	c.next++
	return n
}

// TCPTickets is the ticket seller: every connection gets `Your ticket
// number is N`, numbers consecutive from 1 and unique however many clients
// arrive at once. The number is taken under a lock when the client
// arrives; preparing the ticket (TicketPrepare) happens outside the lock,
// so clients are served at the same time.
func TCPTickets(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	out := &concWriter{w: stdout}
	counter := &concCounter{next: 1}
	var handlers sync.WaitGroup
	defer handlers.Wait()
	for {
		conn, code, ok := acceptNext(ctx, cmd.Name, ln, stderr)
		if !ok {
			return code
		}
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			concSellTicket(ctx, conn, counter, out)
		}()
	}
}

// concSellTicket reads the client's line (if it sends one), takes a
// number, prepares the ticket and sends it.
func concSellTicket(ctx context.Context, conn net.Conn, counter *concCounter, out *concWriter) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetReadDeadline(time.Now().Add(ticketReadWait))
	buf := make([]byte, 1024)
	got := 0
	for got < len(buf) && !bytes.Contains(buf[:got], []byte("\n")) {
		n, err := conn.Read(buf[got:])
		got += n
		if err != nil {
			break
		}
	}
	n := counter.take()
	ip := clientIP(conn)
	out.Printf("%s buys ticket %d\n", ip, n)
	if !concSleep(ctx, TicketPrepare) {
		return
	}
	_, _ = conn.Write([]byte("Your ticket number is " + strconv.Itoa(n) + "\n"))
}
