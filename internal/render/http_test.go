package render

import (
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
)

// TestEventLines shows HTTP messages as `curl -v` shows them, whatever
// the program sent: a malformed request line netgrade sent on purpose, a
// reply without a status line, a long body cut to its first lines, and
// the problems found on the wire.
func TestEventLines(t *testing.T) {
	long := strings.Repeat("a", 70000)
	tests := []struct {
		name string
		ev   report.Event
		want []string
	}{
		{
			name: "not an HTTP event",
			ev:   report.Event{Kind: report.EvNote, Data: "hello"},
			want: []string{"note    hello"},
		},
		{
			name: "request from its fields, with a body",
			ev: report.Event{Kind: report.EvHTTPRequest, Data: `{"a": 1}`, Bytes: 8, HTTP: &report.HTTPMessage{
				Method: "POST", Path: "/date", Version: "HTTP/1.1",
				Headers: []report.Header{{Name: "Host", Value: "127.0.0.1:8888"}, {Name: "Content-Length", Value: "8"}},
			}},
			want: []string{"> POST /date HTTP/1.1", "> Host: 127.0.0.1:8888", "> Content-Length: 8", ">", `{"a": 1}`, "[8 bytes of body]"},
		},
		{
			name: "raw request line, long, without headers",
			ev:   report.Event{Kind: report.EvHTTPRequest, HTTP: &report.HTTPMessage{Line: "GET /" + long + " HTTP/1.1"}},
			want: []string{"> GET /" + strings.Repeat("a", httpLineRunes-6) + "…"},
		},
		{
			name: "response without a status line",
			ev: report.Event{Kind: report.EvHTTPResponse, Data: "<html>hello</html>", Bytes: 18, HTTP: &report.HTTPMessage{
				Line: "<html>hello</html>", Problems: []string{"the reply has no status line"},
			}},
			want: []string{"< <html>hello</html>", "<html>hello</html>", "[18 bytes of body]", "* the reply has no status line"},
		},
		{
			name: "response with a long body",
			ev: report.Event{Kind: report.EvHTTPResponse, Data: strings.Repeat("line\r\n", 20), Bytes: 5000, HTTP: &report.HTTPMessage{
				Version: "HTTP/1.0", Status: 404, Truncated: true,
			}},
			want: append(append([]string{"< HTTP/1.0 404", "<"}, strings.Split(strings.Repeat("line ", httpBodyLines), " ")[:httpBodyLines]...), "[… 5000 bytes of body in all]"),
		},
		{
			name: "response whose body did not come",
			ev:   report.Event{Kind: report.EvHTTPResponse, Bytes: 0, HTTP: &report.HTTPMessage{Version: "HTTP/1.1", Status: 204, Reason: "No Content"}},
			want: []string{"< HTTP/1.1 204 No Content", "<"},
		},
		{
			name: "hostile header and body lines are shown, not obeyed",
			ev: report.Event{Kind: report.EvHTTPResponse, Data: "::error::x\n\x1b[2J", Bytes: 14, HTTP: &report.HTTPMessage{
				Version: "HTTP/1.0", Status: 200, Reason: "OK", Headers: []report.Header{{Name: "X", Value: "a\r\n::error::y"}},
			}},
			want: []string{"< HTTP/1.0 200 OK", `< X: a\x0d\x0a\x3a:error::y`, "<", `\x3a:error::x`, `\x1b[2J`, "[14 bytes of body]"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, EventLines(tc.ev))
			assert.Equal(t, tc.want[0], EventText(tc.ev), "EventText is the first line")
		})
	}
}
