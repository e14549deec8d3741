package http

import (
	"context"
	nethttp "net/http"
	"sort"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/httpwire"
	"github.com/netgrade/netgrade/internal/pyenv"
)

// probeClient sends a check's requests through the HTTP probe, which
// records every exchange in the check's transcript. It keeps one
// connection open from request to request while the program does
// (HTTP/1.1 keep-alive) and opens another when the program closed it: a
// program that keeps its data per connection is seen by the persists
// check alone.
type probeClient struct {
	t   *graders.T
	srv *probe.HTTPServer
	// fresh sends every request on a connection of its own.
	fresh bool
	// conn is the open connection, nil when there is none.
	conn *httpwire.Conn
}

func newProbeClient(t *graders.T, srv *probe.HTTPServer) *probeClient {
	return &probeClient{t: t, srv: srv}
}

// Do sends one request and reads its response within the probe's reply
// window.
func (c *probeClient) Do(ctx context.Context, method, path string, header nethttp.Header, body []byte) *restExchange {
	req := httpwire.Request{Method: method, Path: path, Body: body}
	for _, name := range sortedHeader(header) {
		for _, v := range header[name] {
			req.Header = append(req.Header, httpwire.Field{Name: name, Value: v})
		}
	}
	from := c.srv.P.Output().Len()
	var x *httpwire.Exchange
	switch {
	case c.fresh:
		x = c.srv.Do(req)
	default:
		if c.conn == nil {
			conn, err := c.srv.Dial()
			if err != nil {
				return &restExchange{Method: method, Path: path, Body: body, Err: err}
			}
			c.conn = conn
		}
		rctx, cancel := context.WithTimeout(ctx, c.t.Timeout(probe.ReplyTimeout))
		x = c.conn.Do(rctx, req)
		cancel()
		if x.Response == nil || x.Response.Close || x.Closed {
			c.conn.Close()
			c.conn = nil
		}
	}
	ex := fromWire(method, path, body, x)
	if serverError(ex) {
		ex.Traceback = c.traceback(ctx, from)
	}
	return ex
}

// tracebackWait is how long, after a server error, the client waits for
// the traceback the program prints for it: Python writes it before the
// connection closes or the 500 is sent, but netgrade reads the program's
// output apart from the socket.
const tracebackWait = 500 * time.Millisecond

// traceback returns the last line of the traceback the program printed
// from output line from on (while one request was served), waiting
// tracebackWait for it; "" when it printed none.
func (c *probeClient) traceback(ctx context.Context, from int) string {
	out := c.srv.P.Output()
	find := func() string {
		if tb := pyenv.LastTraceback(out.Since(from)); tb != nil {
			return tb.Line
		}
		return ""
	}
	if line := find(); line != "" {
		return line
	}
	wctx, cancel := context.WithTimeout(ctx, c.t.Timeout(tracebackWait))
	defer cancel()
	// Each new line may end the traceback: look again after each.
	for next := out.Len(); ; next++ {
		_, i, err := out.Wait(wctx, next, func(harness.Line) bool { return true })
		if err != nil {
			return ""
		}
		if line := find(); line != "" {
			return line
		}
		next = i
	}
}

// fromWire turns the probe's exchange into the judging's.
func fromWire(method, path string, body []byte, x *httpwire.Exchange) *restExchange {
	ex := &restExchange{Method: method, Path: path, Body: body, RespHeader: nethttp.Header{}, wire: x}
	if x.Response == nil {
		ex.Err = x.Err
		if ex.Err == nil {
			ex.Err = httpwire.ErrClosedNoReply
		}
		return ex
	}
	ex.Status, ex.RespBody, ex.Err = x.Response.Status, x.Response.AllBody(), x.Err
	for _, f := range x.Response.Header {
		ex.RespHeader.Add(f.Name, f.Value)
	}
	return ex
}

// Fresh returns a client that opens a connection for every request.
func (c *probeClient) Fresh() restClient {
	return &probeClient{t: c.t, srv: c.srv, fresh: true}
}

// Close closes the open connection.
func (c *probeClient) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func sortedHeader(h nethttp.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
