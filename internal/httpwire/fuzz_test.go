package httpwire

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readFrom reads one response to a request of method from a server that
// sends reply, as a one-shot exchange does (waiting for the close after a
// response that announces it). With hold the server keeps the connection
// open after its reply, and the exchange ends at a short deadline.
func readFrom(t testing.TB, method string, reply []byte, hold bool) *Exchange {
	t.Helper()
	client, server := net.Pipe()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		_, _ = server.Write(reply)
		if !hold {
			server.Close()
		}
	}()
	wait := 5 * time.Second
	if hold {
		wait = 20 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c := newConn(client, "127.0.0.1:8000", Discard)
	x := &Exchange{Request: Request{Method: method, Path: "/"}}
	c.read(ctx, x, true)
	client.Close()
	server.Close()
	<-sent
	return x
}

// canonical writes a response the way its fields say: the status line,
// each header field as "Name: value", CR LF line ends, and the body in its
// framing (one chunk and the last for a chunked body, nothing for a
// response without body).
func canonical(r *Response) []byte {
	var b bytes.Buffer
	b.WriteString(r.StatusLine() + "\r\n")
	for _, f := range r.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
	}
	b.WriteString("\r\n")
	switch r.Framing {
	case FrameChunked:
		if len(r.Body) > 0 {
			b.WriteString(strconv.FormatInt(int64(len(r.Body)), 16) + "\r\n")
			b.Write(r.Body)
			b.WriteString("\r\n")
		}
		b.WriteString("0\r\n\r\n")
	case FrameLength, FrameClose:
		b.Write(r.Body)
	}
	return b.Bytes()
}

// FuzzReadResponse reads whatever a student's server may answer. The
// reader never panics; what it keeps is what came, in order, within its
// bounds; a response's body is the bytes its framing delimits; and a
// response it accepts whole, written back from its fields, reads again to
// the same fields, byte for byte what was written.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nContent-type: text/html\r\n\r\n<html>hi</html>",
		"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
		"HTTP/1.0 200 OK\nContent-Type: text/html\n\nhello",
		"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nabcdef",
		"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nBad Header\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Folded: caf\xe9\r\n  b\xff\r\n \r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"<html>hi</html>\r\n",
		"",
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	f.Fuzz(func(t *testing.T, reply []byte, head, hold bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		x := readFrom(t, method, reply, hold)
		require.LessOrEqual(t, len(x.Raw), len(reply))
		require.True(t, bytes.HasPrefix(reply, x.Raw), "the raw bytes are the start of what came")
		require.LessOrEqual(t, len(x.Raw), 2*MaxResponse+64<<10)
		for _, p := range x.Problems {
			require.NotEmpty(t, p.Text, "problem %s says what is wrong", p.Kind)
		}
		if len(reply) > 0 && x.Response == nil {
			require.Error(t, x.Err, "bytes came, no response: an error says why")
		}
		r := x.Response
		if r == nil {
			return
		}
		require.LessOrEqual(t, len(r.Body), MaxResponse)
		require.LessOrEqual(t, len(r.Extra), MaxResponse)
		require.True(t, r.Status >= 0 && r.Status <= 999, "three digits: %d", r.Status)
		for _, fl := range r.Header {
			require.True(t, utf8.ValidString(fl.Name+fl.Value) && !strings.ContainsFunc(fl.Name+fl.Value, unicode.IsControl), "header fields are printable: %q", fl)
		}
		switch r.Framing {
		case FrameLength, FrameClose:
			require.True(t, bytes.HasSuffix(x.Raw, r.AllBody()), "the body is the last bytes read")
		case FrameNone:
			require.Empty(t, r.Body)
		}
		if r.Framing == FrameLength && x.Err == nil {
			require.EqualValues(t, r.ContentLength, len(r.Body), "a complete body is Content-Length bytes")
		}
		if x.Err != nil || hold || x.Has(BodyCutShort) || x.Has(BadChunked) || x.Has(NoBodyEnd) {
			return
		}
		// Accepted whole: its fields, written back, are a response the
		// reader takes as it is.
		want := canonical(r)
		y := readFrom(t, method, want, false)
		require.NoError(t, y.Err, "re-reading %q", want)
		require.Empty(t, y.Problems, "re-reading %q", want)
		require.Equal(t, string(want), string(y.Raw), "the bytes read are the bytes written")
		require.NotNil(t, y.Response)
		assert.Equal(t, string(want), string(canonical(y.Response)), "written back again, the same bytes")
		assert.Equal(t, r.Status, y.Response.Status)
		assert.Equal(t, r.Framing, y.Response.Framing)
		assert.Equal(t, r.Close, y.Response.Close)
	})
}
