package repro

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

// needSh skips a test that runs sh when there is none.
func needSh(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("SKIPPED: no sh: %v", err)
	}
}

// TestPrintfWritesTheBytes runs printf with the format Printf makes of an
// event's Data under sh (dash on Debian, whose printf has no \x) and
// wants back the bytes the event recorded.
func TestPrintfWritesTheBytes(t *testing.T) {
	needSh(t)
	for _, b := range []string{
		"các bạn",
		"caf\xe9 \xff\xfe",
		"100% sure\n",
		`back\slash and \x41 typed`,
		"it's 'quoted'",
		"-n starts with a dash",
		"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"tab\tbell\a del\x7f nul\x00 end",
		"",
	} {
		t.Run(b, func(t *testing.T) {
			data := report.Printable([]byte(b))
			out, err := exec.Command("sh", "-c", "printf "+Printf(data)).Output()
			assert.NilError(t, err)
			want := b
			if strings.Contains(b, `\x41`) {
				// A typed \x41 in valid UTF-8 reads as the escape of A:
				// the one text Printable leaves ambiguous.
				want = strings.ReplaceAll(b, `\x41`, "A")
			}
			assert.Equal(t, string(out), want)
		})
	}
}

// TestQuoteIsOneWord has sh print each quoted word back.
func TestQuoteIsOneWord(t *testing.T) {
	needSh(t)
	for _, s := range []string{"plain", "các bạn", "it's", "$HOME `x` \"y\"", "a b\tc", "*", "-n"} {
		out, err := exec.Command("sh", "-c", "printf '%s|' "+Quote(s)).Output()
		assert.NilError(t, err)
		assert.Equal(t, string(out), s+"|")
	}
}

// start and wire build transcript events tersely.
func start(t float64, env []string, argv ...string) report.Event {
	return report.Event{TimeMS: t, Kind: report.EvStart, Data: strings.Join(argv, " "), Argv: argv, Env: env}
}

func wire(t float64, kind report.EventKind, proto, from, to, data string) report.Event {
	return report.Event{TimeMS: t, Kind: kind, Proto: proto, From: from, To: to, Data: data, Bytes: len(data)}
}

const (
	prog = "127.0.0.1:5000"
	ng1  = "127.0.0.1:40001"
	ng2  = "127.0.0.1:40002"
	ng3  = "127.0.0.1:40003"
)

// TestFor derives the steps of each kind of check from a transcript: the
// golden file holds them, one case a block, to read when they change.
func TestFor(t *testing.T) {
	server := []string{"python3", "/home/s/udp-server.py", "{port}"}
	client := []string{"python3", "/home/s/udp-client.py", "{host}", "{port}", "{message}"}
	py := "/usr/local/bin/python3"
	cases := []struct {
		name    string
		command []string
		file    string
		check   report.Check
	}{
		{"udp server", server, "/home/s/udp-server.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/home/s/udp-server.py", "5000"),
			wire(2, report.EvSend, "udp", ng1, prog, "caf\\xe9 50%"),
			wire(3, report.EvSend, "udp", ng1, prog, "still there?"),
		}}},
		{"control run then the judged one", server, "/home/s/udp-server.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/home/s/udp-server.py", "4000"),
			wire(2, report.EvSend, "udp", ng1, "127.0.0.1:4000", "control"),
			start(10, nil, py, "/home/s/udp-server.py", "5000"),
			wire(12, report.EvSend, "udp", ng1, prog, "judged"),
		}}},
		{"tcp server, two clients at once, one alone, one refused", server, "s.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/x/s.py", "5000"),
			wire(2, report.EvConnect, "tcp", ng1, prog, ""),
			wire(3, report.EvSend, "tcp", ng1, prog, "abc"),
			wire(4, report.EvConnect, "tcp", ng2, prog, ""),
			wire(5, report.EvSend, "tcp", ng2, prog, "de"),
			wire(3005, report.EvRecv, "tcp", prog, ng1, "ABC"),
			wire(3006, report.EvRecv, "tcp", prog, ng2, "DE"),
			wire(4000, report.EvConnect, "tcp", ng3, prog, ""),
			wire(4001, report.EvClose, "tcp", ng3, prog, "netgrade shut down its side"),
			{TimeMS: 5000, Kind: report.EvNote, Data: "connecting to " + prog + " failed: dial tcp " + prog + ": connect: connection refused"},
		}}},
		{"http, curl and a raw request; no answer to the last three", []string{"python3", "/h/http.py", "{port}"}, "/h/http.py", report.Check{Transcript: []report.Event{
			start(1, []string{"TZ=Europe/Paris", "LD_PRELOAD=/lib/libfaketime.so.1", "FAKETIME=@2026-01-15 10:00:00", "FAKETIME_DONT_RESET=1", "NO_FAKE_STAT=1", "PYTHONPATH=/tmp/hook"}, py, "/h/http.py", "5000"),
			{TimeMS: 2, Kind: report.EvHTTPRequest, Proto: "tcp", From: ng1, To: prog, HTTP: &report.HTTPMessage{Method: "GET", Path: "/date/paris", Version: "HTTP/1.1",
				Headers: []report.Header{{Name: "Host", Value: prog}, {Name: "User-Agent", Value: "netgrade"}}}},
			{TimeMS: 2.5, Kind: report.EvHTTPResponse, Proto: "tcp", From: prog, To: ng1, HTTP: &report.HTTPMessage{Version: "HTTP/1.0", Status: 200, Reason: "OK"}},
			{TimeMS: 3, Kind: report.EvHTTPRequest, Proto: "tcp", From: ng2, To: prog, HTTP: &report.HTTPMessage{Method: "GET", Path: "/../http.py", Version: "HTTP/1.1"}},
			{TimeMS: 4, Kind: report.EvHTTPRequest, Proto: "tcp", From: ng3, To: prog, HTTP: &report.HTTPMessage{Line: "GARBAGE", Headers: []report.Header{{Name: "Host", Value: prog}}}},
			{TimeMS: 5, Kind: report.EvHTTPRequest, Proto: "tcp", From: ng3, To: prog, Data: `{"title":"it's"}`, Bytes: 16, HTTP: &report.HTTPMessage{Method: "POST", Path: "/api/todos", Version: "HTTP/1.1",
				Headers: []report.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Content-Length", Value: "16"}}}},
		}}},
		{"udp client", client, "/home/s/udp-client.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/home/s/udp-client.py", "127.0.0.1", "5000", "các bạn"),
			wire(200, report.EvRecv, "udp", ng1, prog, "c\\xe1c b?n"),
		}}},
		{"tcp client", []string{"python3", "/c/tcp-client.py", "{host}", "{port}", "{message}"}, "/c/tcp-client.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/c/tcp-client.py", "localhost", "5000", "hi"),
			wire(2, report.EvConnect, "tcp", ng1, prog, ""),
			wire(3, report.EvRecv, "tcp", ng1, prog, "hi"),
			wire(4, report.EvSend, "tcp", prog, ng1, "Message received\n"),
		}}},
		{"pop3 client, masked passwords", []string{"python3", "/m/pop.py", "{host}", "{port}", "{user}", "{password}"}, "/m/pop.py", report.Check{Transcript: []report.Event{
			{TimeMS: 1, Kind: report.EvNote, Data: "netgrade's pop3 server listens on 127.0.0.1:5000, offering STLS"},
			start(2, nil, py, "/m/pop.py", "127.0.0.1", "5000", "student", strings.Repeat("*", len(DefaultMail.Password))),
			wire(3, report.EvSend, "pop3", prog, ng1, "+OK ready"),
		}}},
		{"a server that never listened, stopped by netgrade", server, "/home/s/udp-server.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/home/s/udp-server.py", "5000"),
			{TimeMS: 5000, Kind: report.EvExit, Data: "stopped by netgrade with SIGINT"},
		}}},
		{"usage, no network", server, "/home/s/udp-server.py", report.Check{Transcript: []report.Event{
			start(1, nil, py, "/home/s/udp-server.py"),
			{TimeMS: 50, Kind: report.EvExit, Data: "exited with status 1"},
		}}},
	}
	var b strings.Builder
	for _, tc := range cases {
		r := report.Result{Command: tc.command, File: tc.file, Checks: []report.Check{tc.check}}
		r.Checks[0].Status = report.Fail
		Annotate(&r, DefaultMail)
		var js strings.Builder
		enc := json.NewEncoder(&js)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		assert.NilError(t, enc.Encode(r.Checks[0].Try))
		b.WriteString("## " + tc.name + "\n" + js.String() + "\n")
	}
	golden.Assert(t, b.String(), "for.golden")
}

// TestAnnotateOnlyVisibleFailures: a check that passed, was skipped, or
// that the course hides gets no Try, nor one without a program started.
func TestAnnotateOnlyVisibleFailures(t *testing.T) {
	tr := []report.Event{start(1, nil, "python3", "s.py", "5000"), wire(2, report.EvSend, "udp", ng1, prog, "x")}
	r := report.Result{Command: []string{"python3", "s.py", "{port}"}, Checks: []report.Check{
		{ID: "pass", Status: report.Pass, Transcript: tr},
		{ID: "skip", Status: report.Skip, Transcript: tr},
		{ID: "hidden", Status: report.Fail, Visibility: report.Hidden, Transcript: tr},
		{ID: "after", Status: report.Fail, Visibility: report.AfterDueDate, Transcript: tr},
		{ID: "no-program", Status: report.Fail},
		{ID: "shown", Status: report.Fail, Visibility: report.Visible, Transcript: tr},
	}}
	Annotate(&r, DefaultMail)
	for _, c := range r.Checks {
		assert.Equal(t, c.Try != nil, c.ID == "shown", c.ID)
	}
}
