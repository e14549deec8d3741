package httpwire

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// Do makes one exchange on a connection of its own: it connects to addr
// (HOST:PORT), sends the request (with `Connection: close` added to an
// HTTP/1.1 request that names no Connection), reads the response and, when
// the program said it would close the connection, waits up to CloseWait
// for that close and for bytes past a Content-Length body; then it closes
// the connection. Everything happens before ctx's deadline. A connection
// that cannot be made gives an exchange with only Err set.
func Do(ctx context.Context, addr string, req Request, rec Recorder) *Exchange {
	if req.Raw == nil && (req.Version == "" || req.Version == "HTTP/1.1") && !hasField(req.Header, "Connection") {
		req.Header = append(append([]Field(nil), req.Header...), Field{"Connection", "close"})
	}
	c, err := Dial(ctx, addr, rec)
	if err != nil {
		now := time.Now()
		return &Exchange{Request: req, Err: err, Start: now, End: now}
	}
	defer c.Close()
	x := c.Send(ctx, req)
	c.read(ctx, x, true)
	return x
}

// Get is Do for `GET path HTTP/1.1`.
func Get(ctx context.Context, addr, path string, rec Recorder) *Exchange {
	return Do(ctx, addr, Request{Method: "GET", Path: path}, rec)
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Events returns the exchange as transcript events: the request, and the
// response (or what came in its place), without times.
func (x *Exchange) Events() []report.Event {
	evs := []report.Event{requestEvent(x, x.Local, x.Remote)}
	if x.Response != nil || len(x.Raw) > 0 {
		evs = append(evs, responseEvent(x))
	}
	if x.Err != nil && x.Response == nil && len(x.Raw) == 0 {
		evs = append(evs, report.Event{Kind: report.EvNote, Data: "no HTTP response: " + x.Err.Error()})
	}
	return evs
}

// requestEvent is the transcript event of the request x sent.
func requestEvent(x *Exchange, local, remote string) report.Event {
	ev := report.Event{Kind: report.EvHTTPRequest, Proto: "tcp", From: local, To: remote}
	m := &report.HTTPMessage{}
	ev.HTTP = m
	req := x.Request
	if req.Raw == nil {
		m.Method, m.Path, m.Version = req.Method, req.Path, req.Version
		if m.Version == "" {
			m.Version = "HTTP/1.1"
		}
		for _, f := range req.fields(x.Host) {
			m.Headers = append(m.Headers, report.Header{Name: f.Name, Value: f.Value})
		}
		ev.Data, m.Truncated = excerpt(req.Body, BodyExcerpt)
		ev.Bytes = len(req.Body)
		return ev
	}
	// A raw request: its first line as it is (cut when long), the header
	// lines that look like headers, and what follows the blank line.
	raw := req.Raw
	head, body, found := cutBlankLine(raw)
	if !found {
		head, body = raw, nil
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	first := []byte(lines[0])
	m.Line, _ = excerpt(first, LineExcerpt)
	if len(first) > LineExcerpt {
		m.Line += " … (" + strconv.Itoa(len(first)) + " bytes in all)"
	}
	for _, l := range lines[1:] {
		if name, value, ok := strings.Cut(l, ":"); ok && name != "" {
			m.Headers = append(m.Headers, report.Header{Name: report.Printable([]byte(name)), Value: report.Printable([]byte(strings.TrimSpace(value)))})
		}
	}
	ev.Data, m.Truncated = excerpt(body, BodyExcerpt)
	ev.Bytes = len(body)
	return ev
}

// responseEvent is the transcript event of the response x got, or of the
// bytes that came in its place.
func responseEvent(x *Exchange) report.Event {
	ev := report.Event{Kind: report.EvHTTPResponse, Proto: "tcp", From: x.Remote, To: x.Local}
	m := &report.HTTPMessage{}
	ev.HTTP = m
	for _, p := range x.Problems {
		m.Problems = append(m.Problems, p.Text)
	}
	if r := x.Response; r != nil {
		m.Version, m.Status, m.Reason = r.Version, r.Status, r.Reason
		for _, f := range r.Header {
			m.Headers = append(m.Headers, report.Header{Name: f.Name, Value: f.Value})
		}
		body := r.AllBody()
		ev.Data, m.Truncated = excerpt(body, BodyExcerpt)
		ev.Bytes = len(body)
		return ev
	}
	first, _, _ := strings.Cut(string(x.Raw), "\n")
	m.Line, _ = excerpt([]byte(strings.TrimSuffix(first, "\r")), LineExcerpt)
	ev.Data, m.Truncated = excerpt(x.Raw, BodyExcerpt)
	ev.Bytes = len(x.Raw)
	return ev
}

func cutBlankLine(b []byte) (head, body []byte, found bool) {
	s := string(b)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		return b[:i], b[i+4:], true
	}
	if i := strings.Index(s, "\n\n"); i >= 0 {
		return b[:i], b[i+2:], true
	}
	return b, nil, false
}
