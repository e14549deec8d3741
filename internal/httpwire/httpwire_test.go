package httpwire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/render"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// scripted is a server that answers every connection with reply once it
// has read a request head (up to the blank line), then closes the
// connection or, with hold, keeps it open until the test ends.
func scripted(t *testing.T, reply string, hold bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if l == "\r\n" || l == "\n" {
						break
					}
				}
				_, _ = io.WriteString(c, reply)
				if hold {
					<-done
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestReadResponse reads replies right and wrong, and checks what each
// exchange says: status, framing, body, the problems found on the wire and
// the error when no complete response came.
func TestReadResponse(t *testing.T) {
	tests := []struct {
		name     string
		reply    string
		hold     bool
		method   string
		status   int
		framing  Framing
		body     string
		extra    string
		problems []ProblemKind
		err      error
		closed   bool
	}{
		{name: "HTTP/1.0 close-delimited", reply: "HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n<html>hi</html>",
			status: 200, framing: FrameClose, body: "<html>hi</html>", closed: true},
		{name: "HTTP/1.1 with Content-Length", reply: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
			status: 404, framing: FrameLength, body: "not found", closed: true},
		{name: "Content-Length, connection kept open", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", hold: true,
			status: 200, framing: FrameLength, body: "ok"},
		{name: "bare LF line ends", reply: "HTTP/1.0 200 OK\nContent-Type: text/html\n\nhello",
			status: 200, framing: FrameClose, body: "hello", problems: []ProblemKind{BareLF}, closed: true},
		{name: "no status line", reply: "<html>hi</html>\r\n",
			problems: []ProblemKind{NoStatusLine}, err: ErrNotHTTP, closed: true},
		{name: "Content-Length smaller than the body", reply: "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nabcdef",
			status: 200, framing: FrameLength, body: "abcd", extra: "ef", problems: []ProblemKind{LengthMismatch}, closed: true},
		{name: "Content-Length larger than the body, then close", reply: "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc",
			status: 200, framing: FrameLength, body: "abc", problems: []ProblemKind{BodyCutShort}, err: ErrIncomplete, closed: true},
		{name: "Content-Length larger than the body, kept open", reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", hold: true,
			status: 200, framing: FrameLength, body: "abc", problems: []ProblemKind{BodyCutShort}, err: ErrIncomplete},
		{name: "chunked", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", hold: true,
			status: 200, framing: FrameChunked, body: "abcde"},
		{name: "bad chunk size", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n", hold: true,
			status: 200, framing: FrameChunked, body: "abc", problems: []ProblemKind{BadChunked}, err: ErrIncomplete},
		{name: "chunked cut short", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
			status: 200, framing: FrameChunked, body: "ab", problems: []ProblemKind{BodyCutShort}, err: ErrIncomplete, closed: true},
		{name: "no framing on a connection kept open", reply: "HTTP/1.1 200 OK\r\n\r\nendless", hold: true,
			status: 200, framing: FrameClose, body: "endless", problems: []ProblemKind{NoBodyEnd}, err: ErrIncomplete},
		{name: "two Content-Lengths", reply: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
			problems: []ProblemKind{BadContentLength}, err: ErrNotHTTP, closed: true},
		{name: "header without a colon", reply: "HTTP/1.1 200 OK\r\nBad Header\r\n\r\nabcd",
			problems: []ProblemKind{BadHeader}, err: ErrNotHTTP, closed: true},
		{name: "HEAD has no body", reply: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", hold: true, method: "HEAD",
			status: 200, framing: FrameNone},
		{name: "closed without a reply", reply: "", err: ErrClosedNoReply, closed: true},
		{name: "no reply", reply: "", hold: true, err: ErrNoReply},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := scripted(t, tc.reply, tc.hold)
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			method := tc.method
			if method == "" {
				method = "GET"
			}
			x := Do(ctx, addr, Request{Method: method, Path: "/date"}, nil)
			var kinds []ProblemKind
			for _, p := range x.Problems {
				kinds = append(kinds, p.Kind)
				assert.NotEmpty(t, p.Text)
			}
			assert.Equal(t, tc.problems, kinds, "problems")
			if tc.err == nil {
				assert.NoError(t, x.Err)
			} else {
				assert.ErrorIs(t, x.Err, tc.err)
			}
			assert.Equal(t, tc.closed, x.Closed, "closed by the program")
			if tc.status == 0 {
				assert.Nil(t, x.Response)
				assert.Equal(t, tc.reply, string(x.Raw), "what came is kept")
				return
			}
			require.NotNil(t, x.Response)
			assert.Equal(t, tc.status, x.Response.Status)
			assert.Equal(t, tc.framing, x.Response.Framing)
			assert.Equal(t, tc.body, string(x.Response.Body))
			assert.Equal(t, tc.extra, string(x.Response.Extra))
			assert.Equal(t, tc.reply, string(x.Raw), "the raw bytes are the reply")
			assert.False(t, x.FirstByte.IsZero())
			assert.False(t, x.End.Before(x.FirstByte))
		})
	}
}

// TestRequestBytes shows what goes over the wire: the request line, Host,
// User-Agent and Accept unless given, the caller's fields, Content-Length
// for a body; a raw request as it is.
func TestRequestBytes(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"GET", Request{Method: "GET", Path: "/"},
			"GET / HTTP/1.1\r\nHost: h:1\r\nUser-Agent: netgrade\r\nAccept: */*\r\n\r\n"},
		{"POST with a body and a given Accept", Request{Method: "POST", Path: "/date", Version: "HTTP/1.0", Header: []Field{{"Accept", "text/html"}}, Body: []byte("a=1")},
			"POST /date HTTP/1.0\r\nHost: h:1\r\nUser-Agent: netgrade\r\nAccept: text/html\r\nContent-Length: 3\r\n\r\na=1"},
		{"POST without a body", Request{Method: "POST", Path: "/date"},
			"POST /date HTTP/1.1\r\nHost: h:1\r\nUser-Agent: netgrade\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n"},
		{"raw", Request{Raw: []byte("NOT A REQUEST\r\n\r\n")}, "NOT A REQUEST\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(tc.req.bytes("h:1")))
		})
	}
}

// TestKeepAlive sends requests one after the other on one connection to
// net/http's server, which keeps it open.
func TestKeepAlive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "you asked for %s", r.URL.Path)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, nil)
	require.NoError(t, err)
	defer c.Close()
	for _, p := range []string{"/", "/date", "/date/paris"} {
		x := c.Do(ctx, Request{Method: "GET", Path: p})
		require.NoError(t, x.Err)
		assert.Empty(t, x.Problems)
		assert.Equal(t, "you asked for "+p, string(x.Response.Body))
		assert.Equal(t, FrameLength, x.Response.Framing)
		assert.False(t, x.Closed)
		assert.Equal(t, "text/plain", x.Response.MediaType())
	}
}

// TestProgramClosesFirst sends a long request to a server that answers and
// closes after the first line: the write may fail, the answer is read.
func TestProgramClosesFirst(t *testing.T) {
	addr := scripted(t, "HTTP/1.0 414 Request-URI Too Long\r\n\r\n", false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	long := "GET /" + strings.Repeat("a", 70000) + " HTTP/1.1\r\n\r\n"
	x := Do(ctx, addr, Request{Raw: []byte(long)}, nil)
	require.NotNil(t, x.Response, "err %v, write err %v", x.Err, x.WriteErr)
	assert.Equal(t, 414, x.Response.Status)
	assert.True(t, x.Closed)
}

// TestContextCancel stops a wait for a reply when the context ends.
func TestContextCancel(t *testing.T) {
	addr := scripted(t, "", true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	x := Do(ctx, addr, Request{Method: "GET", Path: "/"}, nil)
	assert.ErrorIs(t, x.Err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestDialRefused gives an exchange with only its error when nothing
// listens.
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var evs []report.Event
	x := Do(context.Background(), addr, Request{Method: "GET", Path: "/"}, RecorderFunc(func(e report.Event, _ time.Time) { evs = append(evs, e) }))
	require.Error(t, x.Err)
	assert.Nil(t, x.Response)
	require.Len(t, evs, 1)
	assert.Contains(t, evs[0].Data, "connecting to "+addr+" failed")
}

// TestRecorded records the exchange step by step, in time order, and
// shows it as curl -v does (testdata/curl.golden).
func TestRecorded(t *testing.T) {
	addr := scripted(t, "HTTP/1.0 200 OK\r\nContent-type: text/html\r\n\r\n<html><body>\n<p>Now in json file: {\"time\": \"16:26\"}</p>\n</body></html>\n", false)
	type rec struct {
		ev report.Event
		at time.Time
	}
	var got []rec
	x := Get(context.Background(), addr, "/api/date", RecorderFunc(func(e report.Event, at time.Time) { got = append(got, rec{e, at}) }))
	require.NoError(t, x.Err)
	// A transcript shows events in time order.
	sort.SliceStable(got, func(i, j int) bool { return got[i].at.Before(got[j].at) })
	var kinds []report.EventKind
	for _, r := range got {
		kinds = append(kinds, r.ev.Kind)
	}
	assert.Equal(t, []report.EventKind{report.EvConnect, report.EvHTTPRequest, report.EvHTTPResponse, report.EvClose}, kinds)
	resp := got[2].ev
	assert.Equal(t, 200, resp.HTTP.Status)
	assert.Equal(t, []report.Header{{Name: "Content-type", Value: "text/html"}}, resp.HTTP.Headers)
	assert.Equal(t, len(x.Response.Body), resp.Bytes)
	req := got[1].ev.HTTP
	assert.Equal(t, "GET", req.Method)
	assert.Equal(t, "/api/date", req.Path)
	assert.Contains(t, req.Headers, report.Header{Name: "Host", Value: addr})
	var lines []string
	for _, e := range x.Events() {
		lines = append(lines, render.EventLines(e)...)
	}
	curl := strings.ReplaceAll(strings.Join(lines, "\n"), addr, "127.0.0.1:PORT")
	golden.Assert(t, curl+"\n", "curl.golden")
}

// TestRawRequestEvent records a raw request by its first line, cut when it
// is long.
func TestRawRequestEvent(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 70000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
	ev := requestEvent(&Exchange{Request: Request{Raw: []byte(long)}}, "a", "b")
	assert.True(t, strings.HasPrefix(ev.HTTP.Line, "GET /aaaa"))
	assert.True(t, strings.HasSuffix(ev.HTTP.Line, "(70014 bytes in all)"), ev.HTTP.Line)
	assert.Equal(t, []report.Header{{Name: "Host", Value: "x"}}, ev.HTTP.Headers)
	ev = requestEvent(&Exchange{Request: Request{Raw: []byte("\x00\xff garbage")}}, "a", "b")
	assert.Equal(t, `\x00\xff garbage`, strings.ReplaceAll(ev.HTTP.Line, "\x00", `\x00`))
	assert.False(t, errors.Is(nil, ErrNoReply))
}
