package httpwire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// Bounds: a response is read up to MaxResponse bytes (a grader needs the
// start of a page, not a runaway stream); a transcript event keeps
// BodyExcerpt bytes of a body and LineExcerpt of a request line.
const (
	MaxResponse = 1 << 20
	BodyExcerpt = 2048
	LineExcerpt = 300
)

// CloseWait is how long a one-shot exchange waits, after a complete
// response the program said it would close the connection after, for that
// close and for bytes that follow the body. It bounds only the wait of a
// program that keeps the connection open anyway; a program that closes is
// seen at once.
const CloseWait = 500 * time.Millisecond

// UserAgent is the User-Agent netgrade's requests carry.
const UserAgent = "netgrade"

// Recorder receives every step of an exchange as a transcript event, with
// the time it happened: the connection opened, each request and response,
// the connection closed, and what went wrong. A grader's check transcript
// is one.
type Recorder interface {
	Record(ev report.Event, at time.Time)
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(ev report.Event, at time.Time)

// Record calls f.
func (f RecorderFunc) Record(ev report.Event, at time.Time) { f(ev, at) }

// Discard is a Recorder that keeps nothing.
var Discard Recorder = RecorderFunc(func(report.Event, time.Time) {})

// Conn is a client connection to an HTTP server: requests go one after the
// other on it (keep-alive) until either side closes it.
type Conn struct {
	c      net.Conn
	cap    *capture
	br     *bufio.Reader
	rec    Recorder
	host   string
	local  string
	remote string
	// eof is true once the program closed its side; closedAt is when,
	// until the close is recorded after the response it ended.
	eof      bool
	closedAt time.Time
}

// capture reads from the connection and keeps every byte it read (up to
// MaxResponse past the first byte of the response being read), so that an
// exchange can show and judge the bytes exactly as they came.
type capture struct {
	r     io.Reader
	buf   []byte
	total int
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.buf = append(c.buf, p[:n]...)
		c.total += n
	}
	return n, err
}

// Dial opens a connection to addr (HOST:PORT) and records it. The dial
// stops at ctx's deadline.
func Dial(ctx context.Context, addr string, rec Recorder) (*Conn, error) {
	if rec == nil {
		rec = Discard
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		rec.Record(report.Event{Kind: report.EvNote, Data: fmt.Sprintf("connecting to %s failed: %v", addr, err)}, time.Now())
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	conn := newConn(c, addr, rec)
	rec.Record(report.Event{Kind: report.EvConnect, Proto: "tcp", From: conn.local, To: conn.remote}, time.Now())
	return conn, nil
}

// newConn wraps an open connection to host (the Host of its requests);
// the fuzz tests read responses through it from an in-memory pipe.
func newConn(c net.Conn, host string, rec Recorder) *Conn {
	cp := &capture{r: c}
	return &Conn{c: c, cap: cp, br: bufio.NewReaderSize(cp, 64<<10), rec: rec, host: host,
		local: c.LocalAddr().String(), remote: c.RemoteAddr().String()}
}

// Net returns the underlying connection, for what HTTP cannot say: a
// client that holds a connection open and sends nothing.
func (c *Conn) Net() net.Conn { return c.c }

// LocalAddr and RemoteAddr name the connection's ends.
func (c *Conn) LocalAddr() string  { return c.local }
func (c *Conn) RemoteAddr() string { return c.remote }

// Close closes the connection and records it.
func (c *Conn) Close() error {
	err := c.c.Close()
	if !c.eof {
		c.rec.Record(report.Event{Kind: report.EvClose, Proto: "tcp", From: c.local, To: c.remote, Data: "closed by netgrade"}, time.Now())
	}
	return err
}

// Exchange is one request and what came back.
type Exchange struct {
	Request Request
	// Sent is the bytes written, exactly.
	Sent []byte
	// Response is nil when no response could be parsed; Raw then holds
	// what came, if anything.
	Response *Response
	// Raw is the bytes read for this response (at most MaxResponse).
	Raw []byte
	// Problems are what is wrong on the wire with the response.
	Problems []Problem
	// Err says why there is no complete response: nothing came before the
	// deadline, the program closed or reset the connection, the reply was
	// not HTTP. A response with a body cut short has both a Response and
	// an Err.
	Err error
	// WriteErr is the error writing the request, if any: a program that
	// closes the connection before a long request is all sent. A response
	// may still have come.
	WriteErr error
	// Closed is true when the program closed the connection after the
	// response, or instead of one.
	Closed bool
	// Host is the address the request was for (its Host header), Local
	// and Remote the connection's ends.
	Host, Local, Remote string
	// Start is when the request began to be written, Wrote when it was
	// all written, FirstByte when the first byte of the response came,
	// End when the response was complete (or the reading stopped).
	Start, Wrote, FirstByte, End time.Time
}

// Errors an exchange ends with; Exchange.Err wraps them.
var (
	// ErrNoReply: nothing came before the deadline.
	ErrNoReply = errors.New("no reply")
	// ErrClosedNoReply: the program closed the connection without a byte of reply.
	ErrClosedNoReply = errors.New("the program closed the connection without replying")
	// ErrReset: the program reset the connection.
	ErrReset = errors.New("the connection was reset")
	// ErrNotHTTP: what came is not an HTTP response.
	ErrNotHTTP = errors.New("the reply is not an HTTP response")
	// ErrIncomplete: the response did not come whole.
	ErrIncomplete = errors.New("the response is incomplete")
)

// Has reports whether the exchange found a problem of kind k.
func (x *Exchange) Has(k ProblemKind) bool {
	for _, p := range x.Problems {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// Elapsed is the time from the start of the request to the end of the
// response.
func (x *Exchange) Elapsed() time.Duration { return x.End.Sub(x.Start) }

// Do sends the request on the connection and reads the response, all
// before ctx's deadline.
func (c *Conn) Do(ctx context.Context, req Request) *Exchange {
	x := c.Send(ctx, req)
	c.Read(ctx, x)
	return x
}

// Send writes the request and records it; Read then reads its response.
// A write error is kept in the exchange's WriteErr: the program may have
// answered before it closed.
func (c *Conn) Send(ctx context.Context, req Request) *Exchange {
	x := &Exchange{Request: req, Host: c.host, Local: c.local, Remote: c.remote}
	x.Sent = req.bytes(c.host)
	stop := c.deadline(ctx, 0)
	defer stop()
	x.Start = time.Now()
	c.rec.Record(requestEvent(x, c.local, c.remote), x.Start)
	_, err := c.c.Write(x.Sent)
	x.Wrote = time.Now()
	if err != nil {
		x.WriteErr = c.cause(ctx, err, "sending the request")
		c.rec.Record(report.Event{Kind: report.EvNote, Data: x.WriteErr.Error()}, x.Wrote)
	}
	return x
}

// Read reads the response to the request x sent, before ctx's deadline,
// and records it.
func (c *Conn) Read(ctx context.Context, x *Exchange) {
	c.read(ctx, x, false)
}

// read reads a response; linger waits up to CloseWait after it for the
// close and for bytes past the body when the response said the connection
// would close.
func (c *Conn) read(ctx context.Context, x *Exchange, linger bool) {
	defer func() {
		if x.End.IsZero() {
			x.End = time.Now()
		}
		c.record(x)
	}()
	stop := c.deadline(ctx, 0)
	defer stop()
	if c.eof {
		x.Err = fmt.Errorf("%w: the connection was already closed", ErrClosedNoReply)
		x.Closed = true
		return
	}
	// The response starts at the first byte not yet consumed.
	c.cap.buf = append(c.cap.buf[:0], c.cap.buf[len(c.cap.buf)-c.br.Buffered():]...)
	if _, err := c.br.Peek(1); err != nil {
		x.Err = c.readErr(ctx, err)
		x.Closed = c.eof
		return
	}
	x.FirstByte = time.Now()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: x.method()})
	headEnd := len(c.cap.buf) - c.br.Buffered()
	if err != nil {
		c.notParsed(ctx, x, err)
		return
	}
	head := c.cap.buf[:headEnd]
	r := &Response{
		Version: resp.Proto, Status: resp.StatusCode, Reason: reason(resp.Status),
		Header: headerFields(head), ContentLength: resp.ContentLength, Close: resp.Close,
	}
	x.Response = r
	x.Problems = append(x.Problems, headProblems(head)...)
	switch {
	case x.method() == http.MethodHead || r.Status/100 == 1 || r.Status == 204 || r.Status == 304:
		r.Framing = FrameNone
	case len(resp.TransferEncoding) > 0:
		r.Framing = FrameChunked
	case resp.ContentLength >= 0:
		r.Framing = FrameLength
	default:
		r.Framing = FrameClose
	}
	body, berr := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	r.Body = body
	x.End = time.Now()
	if berr != nil {
		c.bodyErr(ctx, x, berr)
	}
	if berr == nil && r.Framing == FrameLength {
		c.trailing(ctx, x, r.Close || linger)
	}
	if r.Framing == FrameClose && berr == nil && len(body) < MaxResponse {
		c.sawEOF(x)
	}
	x.Raw = append([]byte(nil), c.cap.buf[:len(c.cap.buf)-c.br.Buffered()]...)
}

// trailing looks at what follows a Content-Length body: bytes there are a
// body longer than its Content-Length said (netgrade never sends a second
// request before the response to the first). On a connection the program
// is to close (toClose), it reads up to the close, waiting at most
// CloseWait; otherwise it takes the bytes already there.
func (c *Conn) trailing(ctx context.Context, x *Exchange, toClose bool) {
	r := x.Response
	var extra []byte
	if toClose {
		stop := c.deadline(ctx, CloseWait)
		defer stop()
		var err error
		extra, err = io.ReadAll(io.LimitReader(c.br, MaxResponse))
		if err == nil && len(extra) < MaxResponse {
			c.sawEOF(x)
		}
	} else if n := c.br.Buffered(); n > 0 {
		extra = make([]byte, n)
		_, _ = io.ReadFull(c.br, extra)
	}
	if len(extra) > 0 {
		r.Extra = extra
		x.Problems = append(x.Problems, Problem{LengthMismatch, fmt.Sprintf(
			"Content-Length says %d bytes, but %d bytes of body came before the connection closed", r.ContentLength, int(r.ContentLength)+len(extra))})
	}
}

// sawEOF notes that the program closed the connection; the close is
// recorded after the response (record).
func (c *Conn) sawEOF(x *Exchange) {
	x.Closed = true
	if !c.eof {
		c.eof = true
		c.closedAt = time.Now()
	}
}

// bodyErr explains why the body could not be read whole.
func (c *Conn) bodyErr(ctx context.Context, x *Exchange, err error) {
	r := x.Response
	got := len(r.Body)
	timeout := isTimeout(err)
	if r.Framing == FrameClose && isReset(err) && !timeout {
		// A program that closes without reading all the request makes
		// its kernel reset the connection after the reply: the body
		// ended there, as with a close.
		c.sawEOF(x)
		return
	}
	if !timeout && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		c.sawEOF(x)
	}
	switch {
	case r.Framing == FrameLength && timeout:
		x.Problems = append(x.Problems, Problem{BodyCutShort, fmt.Sprintf("Content-Length says %d bytes, but only %d came before the deadline", r.ContentLength, got)})
	case r.Framing == FrameLength:
		x.Problems = append(x.Problems, Problem{BodyCutShort, fmt.Sprintf("Content-Length says %d bytes, but the connection ended after %d", r.ContentLength, got)})
	case r.Framing == FrameChunked && (timeout || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)):
		x.Problems = append(x.Problems, Problem{BodyCutShort, fmt.Sprintf("the chunked body stopped after %d bytes, before its last (zero-length) chunk", got)})
	case r.Framing == FrameChunked:
		x.Problems = append(x.Problems, Problem{BadChunked, fmt.Sprintf("the chunked body is malformed after %d bytes: %v", got, err)})
	case r.Framing == FrameClose && timeout:
		x.Problems = append(x.Problems, Problem{NoBodyEnd, fmt.Sprintf("the response has neither Content-Length nor chunks, and the connection stayed open: %d bytes of body came, and a client cannot tell where it ends", got)})
	}
	x.Err = fmt.Errorf("%w: %w", ErrIncomplete, c.cause(ctx, err, "reading the body"))
}

// notParsed handles a reply that net/http could not parse: it reads what
// else came (up to the close or the deadline) and says what is wrong.
func (c *Conn) notParsed(ctx context.Context, x *Exchange, perr error) {
	if _, rerr := io.ReadAll(io.LimitReader(c.br, MaxResponse)); rerr == nil {
		c.sawEOF(x)
	}
	x.End = time.Now()
	x.Raw = append([]byte(nil), c.cap.buf[:len(c.cap.buf)-c.br.Buffered()]...)
	first, _, _ := bytes.Cut(x.Raw, []byte("\n"))
	first = bytes.TrimSuffix(first, []byte("\r"))
	msg := perr.Error()
	switch {
	case !statusLineRE.Match(first):
		text, _ := excerpt(first, 80)
		x.Problems = append(x.Problems, Problem{NoStatusLine, fmt.Sprintf("the reply has no status line (such as `HTTP/1.0 200 OK`): it starts with %q", text)})
	case strings.Contains(msg, "Content-Length"):
		x.Problems = append(x.Problems, Problem{BadContentLength, strings.TrimPrefix(msg, "http: ")})
	default:
		x.Problems = append(x.Problems, Problem{BadHeader, "the headers are malformed: " + msg})
	}
	x.Problems = append(x.Problems, headProblems(x.Raw)...)
	x.Err = fmt.Errorf("%w: %w", ErrNotHTTP, perr)
}

// readErr explains why no byte of a response came.
func (c *Conn) readErr(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, io.EOF):
		c.eof = true
		c.rec.Record(report.Event{Kind: report.EvClose, Proto: "tcp", From: c.remote, To: c.local, Data: "closed by the program without a reply"}, time.Now())
		return ErrClosedNoReply
	case isTimeout(err) && !errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%w before the deadline", ErrNoReply)
	}
	return c.cause(ctx, err, "waiting for the reply")
}

// cause words a network error.
func (c *Conn) cause(ctx context.Context, err error, doing string) error {
	switch {
	case isTimeout(err) && errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%s: %w", doing, context.Canceled)
	case isTimeout(err):
		return fmt.Errorf("%s: %w before the deadline", doing, ErrNoReply)
	case isReset(err):
		c.eof = true
		return fmt.Errorf("%s: %w by the program", doing, ErrReset)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// deadline sets the connection's deadline to ctx's (or to at most wait
// from now, when wait is set) and makes ctx's cancellation interrupt it;
// the returned function undoes the latter.
func (c *Conn) deadline(ctx context.Context, wait time.Duration) func() {
	dl, ok := ctx.Deadline()
	if wait > 0 && (!ok || time.Until(dl) > wait) {
		dl, ok = time.Now().Add(wait), true
	}
	if ok {
		_ = c.c.SetDeadline(dl)
	} else {
		_ = c.c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Now()) })
	return func() { stop() }
}

func (c *Conn) record(x *Exchange) {
	at := x.End
	if x.Response != nil || len(x.Raw) > 0 {
		c.rec.Record(responseEvent(x), at)
	}
	if x.Err != nil && x.Response == nil && len(x.Raw) == 0 {
		c.rec.Record(report.Event{Kind: report.EvNote, Data: "no HTTP response: " + x.Err.Error()}, at)
	}
	if !c.closedAt.IsZero() {
		closed := c.closedAt
		if closed.Before(at) {
			closed = at
		}
		c.rec.Record(report.Event{Kind: report.EvClose, Proto: "tcp", From: c.remote, To: c.local, Data: "closed by the program"}, closed)
		c.closedAt = time.Time{}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, ErrReset)
}

// statusLineRE is the form of a status line: HTTP-version SP 3DIGIT
// SP reason (RFC 9112, 4; the reason may be empty).
var statusLineRE = regexp.MustCompile(`^HTTP/\d\.\d \d{3}(?: [^\r\n]*)?$`)

// headProblems judges the raw status line and headers (up to the blank
// line) strictly: every line must end with CR LF.
func headProblems(head []byte) []Problem {
	end := bytes.Index(head, []byte("\n\n"))
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 && (end < 0 || i < end) {
		end = i + 2
	}
	if end >= 0 {
		head = head[:end+1]
	}
	lines := bytes.Count(head, []byte("\n"))
	bare := lines - bytes.Count(head, []byte("\r\n"))
	if bare == 0 {
		return nil
	}
	return []Problem{{BareLF, fmt.Sprintf("%d of the %d lines of the status line and headers end with LF alone; HTTP wants CR LF (\\r\\n)", bare, lines)}}
}

// headerFields returns the header fields of a raw response head in order,
// names and values as they came (a folded line joins the field before it).
func headerFields(head []byte) []Field {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	var out []Field
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			// A folded line is shown as printable as the rest, and one
			// that holds only blanks adds nothing.
			if more := report.Printable([]byte(strings.TrimSpace(l))); more != "" {
				last := &out[len(out)-1]
				last.Value = strings.TrimSpace(last.Value + " " + more)
			}
			continue
		}
		name, value, _ := strings.Cut(l, ":")
		out = append(out, Field{Name: report.Printable([]byte(name)), Value: report.Printable([]byte(strings.TrimSpace(value)))})
	}
	return out
}

// reason returns the reason phrase of net/http's Status ("200 OK" → "OK").
func reason(status string) string {
	_, r, _ := strings.Cut(status, " ")
	return r
}

func (x *Exchange) method() string {
	if x.Request.Method != "" {
		return x.Request.Method
	}
	if x.Request.Raw != nil {
		m, _, _ := bytes.Cut(x.Request.Raw, []byte(" "))
		return string(m)
	}
	return http.MethodGet
}

// bytes returns the request as it goes over the wire.
func (r Request) bytes(host string) []byte {
	if r.Raw != nil {
		return r.Raw
	}
	var b bytes.Buffer
	version := r.Version
	if version == "" {
		version = "HTTP/1.1"
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, r.Path, version)
	for _, f := range r.fields(host) {
		fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// fields returns the header fields the request sends: Host, User-Agent
// and Accept unless given, the given ones, and Content-Length for a body.
func (r Request) fields(host string) []Field {
	has := func(name string) bool {
		for _, f := range r.Header {
			if strings.EqualFold(f.Name, name) {
				return true
			}
		}
		return false
	}
	var out []Field
	for _, d := range []Field{{"Host", host}, {"User-Agent", UserAgent}, {"Accept", "*/*"}} {
		if !has(d.Name) {
			out = append(out, d)
		}
	}
	out = append(out, r.Header...)
	if (len(r.Body) > 0 || r.Method == http.MethodPost || r.Method == http.MethodPut) && !has("Content-Length") && !has("Transfer-Encoding") {
		out = append(out, Field{"Content-Length", strconv.Itoa(len(r.Body))})
	}
	return out
}
