// Package httpwire is an HTTP/1.x client at the level of the wire, for
// grading HTTP servers: it sends a request (or bytes that are not one) over
// a TCP connection, reads the response strictly enough to say what is wrong
// with it (no status line, bare LF line ends, a Content-Length that
// disagrees with the body, a body cut short, a bad chunked encoding) and
// tolerantly enough to grade HTTP/1.0 replies whose body ends when the
// connection closes. Every exchange is an Exchange value (what was sent,
// what came back, when, and the problems found) and is recorded, step by
// step, as transcript events through the caller's Recorder.
//
// The response is parsed with net/http's ReadResponse, which is tolerant
// (it accepts bare LF line ends and close-delimited bodies, and reports a
// malformed status line, header, Content-Length or chunk as an error);
// httpwire keeps every byte it read and judges the strict side itself from
// those bytes: the status line's form, the line ends, the bytes that follow
// a Content-Length body, a body that stops short.
package httpwire

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/netgrade/netgrade/internal/report"
)

// Field is one header field, as it went over the wire.
type Field struct {
	Name  string
	Value string
}

// Request is an HTTP request to send.
type Request struct {
	// Method, Path and Version make the request line; Version is
	// "HTTP/1.1" when empty.
	Method  string
	Path    string
	Version string
	// Header holds the fields to send after Host, User-Agent and Accept,
	// which are added unless given here; Content-Length is added for a
	// body.
	Header []Field
	Body   []byte
	// Raw, when set, is sent as it is in place of the request the other
	// fields make: a malformed request, a partial one. Method is then
	// only what the response is read for (HEAD has no body).
	Raw []byte
}

// Response is an HTTP response as it was read.
type Response struct {
	// Version is the protocol of the status line, "HTTP/1.0" or "HTTP/1.1".
	Version string
	Status  int
	Reason  string
	// Header holds the header fields in the order they came.
	Header []Field
	// Body is the body as its framing delimits it: Content-Length bytes,
	// the chunks, or everything up to the close.
	Body []byte
	// Extra holds the bytes that followed a Content-Length body on a
	// connection that closed after it: the body the program meant to send
	// is Body followed by Extra.
	Extra []byte
	// Framing says how the end of the body was found: FrameLength,
	// FrameChunked, FrameClose or FrameNone.
	Framing Framing
	// ContentLength is the Content-Length header's value, -1 without one.
	ContentLength int64
	// Close is true when the response asks for the connection to close
	// after it (HTTP/1.0 without keep-alive, or Connection: close).
	Close bool
}

// Framing is how the end of a response's body is found.
type Framing string

// The framings of a response body.
const (
	FrameLength  Framing = "content-length"
	FrameChunked Framing = "chunked"
	FrameClose   Framing = "close"
	// FrameNone is a response that has no body: HEAD, 1xx, 204, 304.
	FrameNone Framing = "none"
)

// Get returns the value of the first header field named name (any case),
// or "".
func (r *Response) Get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether the response has a header field named name.
func (r *Response) Has(name string) bool {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// MediaType returns the media type of the Content-Type header, lower case
// and without parameters ("text/html" for "text/html; charset=utf-8"), or
// "" without one. A value mime cannot parse gives its first word.
func (r *Response) MediaType() string {
	v := r.Get("Content-Type")
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt, _, _ = strings.Cut(v, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// AllBody returns Body followed by Extra: everything the program sent as
// the body, whatever its Content-Length said.
func (r *Response) AllBody() []byte {
	if len(r.Extra) == 0 {
		return r.Body
	}
	return append(append([]byte(nil), r.Body...), r.Extra...)
}

// StatusLine returns the status line as the fields make it. The code
// keeps its three digits: a program may send "000" or "099", which
// net/http reads as 0 and 99.
func (r *Response) StatusLine() string {
	line := fmt.Sprintf("%s %03d", r.Version, r.Status)
	if r.Reason != "" {
		line += " " + r.Reason
	}
	return line
}

// ProblemKind names a wire-level problem of a response.
type ProblemKind string

// The problems a response can have on the wire.
const (
	// NoStatusLine: the reply does not start with `HTTP/x.y NNN reason`.
	NoStatusLine ProblemKind = "no-status-line"
	// BareLF: lines of the status line or headers end with LF alone,
	// where HTTP wants CR LF.
	BareLF ProblemKind = "bare-lf"
	// BadHeader: a header line is not `Name: value`.
	BadHeader ProblemKind = "bad-header"
	// BadContentLength: the Content-Length is not a number, or two
	// disagree.
	BadContentLength ProblemKind = "bad-content-length"
	// LengthMismatch: more bytes followed the body than its
	// Content-Length said.
	LengthMismatch ProblemKind = "content-length-mismatch"
	// BodyCutShort: the connection closed, or the deadline came, before
	// the body its framing announced was complete.
	BodyCutShort ProblemKind = "body-cut-short"
	// BadChunked: the chunked encoding is malformed.
	BadChunked ProblemKind = "bad-chunked"
	// NoBodyEnd: a body without Content-Length or chunks, on a
	// connection the program kept open: a client cannot tell where it ends.
	NoBodyEnd ProblemKind = "no-body-end"
)

// Problem is one wire-level problem of a response, with a sentence saying
// what is wrong.
type Problem struct {
	Kind ProblemKind
	Text string
}

// excerpt returns at most n bytes of b as printable text, cut on a rune
// boundary, and whether it was cut.
func excerpt(b []byte, n int) (string, bool) {
	if len(b) <= n {
		return report.Printable(b), false
	}
	cut := n
	for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return report.Printable(b[:cut]), true
}
