package render

import (
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/report"
)

// start is the fixed time of the fixed results.
var start = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

// fixedResults is a student's folder graded on two exercises, fixed to
// the millisecond: one exercise with a pass, a failure on one line, a
// failure over several lines, a check the course hides, a skip that names
// the hidden check, and a netgrade error, whose programs printed a
// KeyboardInterrupt traceback when netgrade stopped them; the other
// passing everything.
func fixedResults() []report.Result {
	server := report.Result{
		Schema: report.Schema, Exercise: "udp-server", Title: "UDP server",
		Submission: "udp-server.py", File: "udp-server.py",
		Command:   []string{"python3", "/home/student/udp-server.py", "{port}"},
		StartedAt: start, DurationMS: 812, Sandbox: "process", Version: "0.1.0",
		Containment: "cgroup netgrade-*, killed whole; memory 512 MiB by cgroup",
		Checks: []report.Check{
			{
				ID: "udp-server/starts", Title: "starts and binds the UDP port given on its command line",
				Category: report.Start, Status: report.Pass, MaxPoints: 2, DurationMS: 66,
				Transcript: []report.Event{
					{TimeMS: 0.5, Kind: report.EvStart, Data: "python3 udp-server.py 25711"},
					{TimeMS: 46.9, Kind: report.EvStdout, Data: "Started server on UDP/25711"},
					{TimeMS: 60.0, Kind: report.EvNote, Data: "netgrade stops the program (SIGINT to its process group)"},
					{TimeMS: 61.2, Kind: report.EvStderr, Data: "Traceback (most recent call last):", FromStop: true},
					{TimeMS: 61.2, Kind: report.EvStderr, Data: `  File "udp-server.py", line 9, in <module>`, FromStop: true},
					{TimeMS: 61.3, Kind: report.EvStderr, Data: "KeyboardInterrupt", FromStop: true},
					{TimeMS: 65.9, Kind: report.EvExit, Data: "stopped by netgrade with SIGINT"},
				},
			},
			{
				ID: "udp-server/log-format", Title: "logs a datagram as `client IP sent \"MSG\"`",
				Requirement: "For each datagram, `PROG PORT` prints one line `[YYYY-MM-DD HH:MM:SS,mmm] client IP sent \"MSG\"`.",
				Category:    report.Format, Status: report.Fail, MaxPoints: 2, DurationMS: 95,
				Message:  "the log line shows the sender as a (host, port) tuple; the course logs the IP address alone",
				Expected: `[2026-03-14 10:26:53,655] client 127.0.0.1 sent "hello"`,
				Actual:   `[2026-03-14 10:26:53,655] client ('127.0.0.1', 53902) sent "hello"`,
				Hint:     "addr is a tuple (ip, port): print addr[0].",
				Transcript: []report.Event{
					{TimeMS: 0.4, Kind: report.EvStart, Data: "python3 udp-server.py 25712"},
					{TimeMS: 40.2, Kind: report.EvStdout, Data: "Started server on UDP/25712"},
					{TimeMS: 52.0, Kind: report.EvNote, Data: "the program holds UDP 0.0.0.0:25712 (state BOUND)"},
					{TimeMS: 52.1, Kind: report.EvSend, Proto: "udp", From: "127.0.0.1:53902", To: "127.0.0.1:25712", Data: "hello", Bytes: 5},
					{TimeMS: 53.3, Kind: report.EvStderr, Data: `[2026-03-14 10:26:53,655] client ('127.0.0.1', 53902) sent "hello"`},
					{TimeMS: 60.0, Kind: report.EvNote, Data: "netgrade stops the program (SIGINT to its process group)"},
					{TimeMS: 62.0, Kind: report.EvStderr, Data: "Traceback (most recent call last):", FromStop: true},
					{TimeMS: 62.1, Kind: report.EvStderr, Data: "KeyboardInterrupt", FromStop: true},
					{TimeMS: 71.5, Kind: report.EvExit, Data: "ended by SIGINT"},
				},
			},
			{
				ID: "udp-server/timestamp", Title: "stamps each datagram with its time of receipt",
				Category: report.Format, Status: report.Fail, MaxPoints: 1, DurationMS: 120,
				Message:    "two datagrams sent 25ms apart were logged with the same time",
				Expected:   "two different times",
				Actual:     "[2026-03-14 10:26:53,655] tick\n[2026-03-14 10:26:53,655] tock",
				Hint:       "Take the time when each datagram arrives.",
				Visibility: report.Hidden,
				Transcript: []report.Event{{TimeMS: 1, Kind: report.EvStdout, Data: "secret transcript of a hidden check"}},
			},
			{
				ID: "udp-server/many-clients", Title: "serves several datagrams from several clients",
				Category: report.Lifecycle, Status: report.Fail, MaxPoints: 2, DurationMS: 2100,
				Message:  `only 1 of 5 datagrams were logged in order; no line for "second-two" within 2s`,
				Expected: "a line for each of, in this order:\nfirst-one\nsecond-two",
				Actual:   `[2026-03-14 10:26:54,001] client 127.0.0.1 sent "first-one"`,
				Exit:     "exited with status 1", Traceback: "OSError: [Errno 98] Address already in use",
				Hint: "Receive in a `while True:` loop.",
				Transcript: []report.Event{
					{TimeMS: 0.3, Kind: report.EvStart, Data: "python3 udp-server.py 25713"},
					{TimeMS: 30.0, Kind: report.EvRecv, Proto: "udp", From: "127.0.0.1:25713", To: "127.0.0.1:40000", Data: "caf\\xe9", Bytes: 4},
					{TimeMS: 2090.5, Kind: report.EvExit, Data: "exited with status 1"},
				},
			},
			{
				ID: "udp-server/invalid-utf8", Title: "survives a datagram that is not UTF-8",
				Category: report.Robustness, Status: report.Skip, MaxPoints: 1,
				SkippedBecause: "udp-server/timestamp",
				Message:        "skipped: it needs udp-server/timestamp, which did not pass (fail)",
			},
			{
				ID: "udp-server/usage", Title: "without arguments, prints a usage message and exits non-zero",
				Category: report.Usage, Status: report.Error, MaxPoints: 1, DurationMS: 3,
				Message: "netgrade could not run this check: no Python interpreter \"python3\" on PATH",
			},
		},
	}
	server.Tally()
	client := report.Result{
		Schema: report.Schema, Exercise: "udp-client", Title: "UDP client",
		Submission: "udp-client.py", File: "udp-client.py",
		StartedAt: start.Add(time.Second), DurationMS: 402, Sandbox: "process", Version: "0.1.0",
		Checks: []report.Check{
			{ID: "udp-client/sends", Title: "sends the message in one datagram", Category: report.Protocol, Status: report.Pass, MaxPoints: 2, DurationMS: 70},
			{ID: "udp-client/exits", Title: "exits by itself with status 0", Category: report.Lifecycle, Status: report.Pass, MaxPoints: 1, DurationMS: 71},
		},
	}
	client.Tally()
	return []report.Result{server, client, httpResult()}
}

// httpResult is an HTTP server graded: a check whose transcript holds an
// HTTP request and the response to it (an HTML page with JSON inside,
// served where JSON is due), and a passing check of the security
// category.
func httpResult() report.Result {
	r := report.Result{
		Schema: report.Schema, Exercise: "http-server", Title: "HTTP server",
		Submission: "http-server.py", File: "http-server.py",
		StartedAt: start.Add(2 * time.Second), DurationMS: 1530, Sandbox: "process", Version: "0.1.0",
		Checks: []report.Check{
			{
				ID: "http-server/api-json", Title: "/api/date answers JSON holding the current date and time",
				Requirement: "GET /api/date gets 200 and a JSON document (json.dumps) holding the current date and time.",
				Category:    report.Protocol, Status: report.Fail, MaxPoints: 2, DurationMS: 210,
				Message:  "/api/date answers an HTML page with JSON written inside it, not a JSON document",
				Expected: `a JSON document, e.g. {"date": "2026-03-14", "time": "16:26"}`,
				Actual:   `<html><body><p>Now in json file: {"date": "2026-03-14", "time": "16:26"}</p></body></html>`,
				Hint:     `Send the JSON alone: self.send_header("Content-type", "application/json"), then self.wfile.write(bytes(json.dumps(data), "utf-8")).`,
				Transcript: []report.Event{
					{TimeMS: 0.6, Kind: report.EvStart, Data: "python3 http-server.py 25714"},
					{TimeMS: 61.2, Kind: report.EvNote, Data: "the program listens on TCP 127.0.0.1:8888, not on the port it was given (25714): netgrade follows it"},
					{TimeMS: 62.0, Kind: report.EvConnect, Proto: "tcp", From: "127.0.0.1:41000", To: "127.0.0.1:8888"},
					{TimeMS: 62.3, Kind: report.EvHTTPRequest, Proto: "tcp", From: "127.0.0.1:41000", To: "127.0.0.1:8888", HTTP: &report.HTTPMessage{
						Method: "GET", Path: "/api/date", Version: "HTTP/1.1",
						Headers: []report.Header{{Name: "Host", Value: "127.0.0.1:8888"}, {Name: "User-Agent", Value: "netgrade"}, {Name: "Accept", Value: "*/*"}},
					}},
					{TimeMS: 65.9, Kind: report.EvHTTPResponse, Proto: "tcp", From: "127.0.0.1:8888", To: "127.0.0.1:41000", HTTP: &report.HTTPMessage{
						Version: "HTTP/1.0", Status: 200, Reason: "OK",
						Headers: []report.Header{{Name: "Server", Value: "BaseHTTP/0.6 Python/3.11.7"}, {Name: "Date", Value: "Sat, 14 Mar 2026 09:26:55 GMT"}, {Name: "Content-type", Value: "text/html"}},
					}, Data: "<html><body>\n<p>Now in json file: {\"date\": \"2026-03-14\", \"time\": \"16:26\"}</p>\n</body></html>\n", Bytes: 86},
					{TimeMS: 66.1, Kind: report.EvClose, Proto: "tcp", From: "127.0.0.1:8888", To: "127.0.0.1:41000", Data: "closed by the program"},
					{TimeMS: 67.0, Kind: report.EvStderr, Data: `127.0.0.1 - - [14/Mar/2026 16:26:55] "GET /api/date HTTP/1.1" 200 -`},
				},
			},
			{
				ID: "http-server/content-length", Title: "Content-Length, when sent, is the body's length",
				Category: report.Protocol, Status: report.Fail, MaxPoints: 1, DurationMS: 95,
				Message:  "GET / sent Content-Length: 40, but the body had 44 bytes: the length counts characters, not UTF-8 bytes",
				Expected: "Content-Length: 44", Actual: "Content-Length: 40",
				Hint:  "Compute the length of the bytes you send: body = html.encode(\"utf-8\"); self.send_header(\"Content-Length\", str(len(body))).",
				Notes: []string{"netgrade followed the program to port 8888"},
				Transcript: []report.Event{
					{TimeMS: 10.0, Kind: report.EvHTTPRequest, Proto: "tcp", From: "127.0.0.1:41002", To: "127.0.0.1:8888", HTTP: &report.HTTPMessage{
						Line: "GET / HTTP/1.1", Method: "GET", Path: "/", Version: "HTTP/1.1",
						Headers: []report.Header{{Name: "Host", Value: "127.0.0.1:8888"}, {Name: "Connection", Value: "close"}},
					}},
					{TimeMS: 12.5, Kind: report.EvHTTPResponse, Proto: "tcp", From: "127.0.0.1:8888", To: "127.0.0.1:41002", HTTP: &report.HTTPMessage{
						Version: "HTTP/1.0", Status: 200, Reason: "OK", Truncated: true,
						Headers:  []report.Header{{Name: "Content-Length", Value: "40"}},
						Problems: []string{"Content-Length says 40 bytes, but 44 bytes of body came before the connection closed"},
					}, Data: "<p>Bonjour à tous, xin chào các bạn</p>", Bytes: 44},
				},
			},
			{
				ID: "http-server/slow-client", Title: "serves a client while another holds a connection without sending",
				Category: report.Security, Status: report.Pass, MaxPoints: 2, DurationMS: 40,
				Notes: []string{"the program listens on TCP 127.0.0.1:8888, not on the port it was given (25716): netgrade follows it"},
			},
		},
	}
	r.Tally()
	return r
}

// hostile is what a hostile program prints: terminal escapes, a carriage
// return that would rewrite the line, NUL, a bidi override, the markup of
// every format (XML, CDATA, HTML, Markdown), CI log commands, a fake JSON
// report and a fake verdict.
var hostile = []string{
	"\x1b[2J\x1b[32m✔ all checks passed\x1b[0m",
	"progress 10%\rSCORE 12/12",
	"nul\x00byte\x07bell\x08",
	"user\u202etxt.exe",
	"</failure></testcase><testcase name=\"fake\"/>",
	"]]><![CDATA[",
	"<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
	"::error file=udp-server.py,title=fake::all good",
	"  ::stop-commands::pwned",
	"##[error]legacy command ##[add-mask]secret",
	`{"schema": 1, "exercise": "udp-server", "score": 12, "max_score": 12, "checks": []}`,
	"✔ all checks passed",
	"``` ~~~ | a | b | <!-- &amp; **bold** [link](http://example.com)",
	"%0A::error::encoded newline",
}

// hostileResults is a graded submission whose program printed everything
// in hostile, in its output, in what netgrade expected and got, in the
// failure message and in its name.
func hostileResults() []report.Result {
	var evs []report.Event
	for i, h := range hostile {
		kind := report.EvStdout
		if i%2 == 1 {
			kind = report.EvStderr
		}
		evs = append(evs, report.Event{TimeMS: float64(i), Kind: kind, Data: h})
	}
	evs = append(evs, report.Event{TimeMS: 20, Kind: report.EvRecv, Proto: "udp", From: "127.0.0.1:1", To: "127.0.0.1:2", Data: hostile[4], Bytes: 40})
	var headers []report.Header
	for _, h := range hostile {
		headers = append(headers, report.Header{Name: "X-" + h, Value: h + "\r\n" + hostile[7]})
	}
	evs = append(evs, report.Event{TimeMS: 21, Kind: report.EvHTTPResponse, Proto: "tcp", Data: strings.Join(hostile, "\n"), Bytes: 900, HTTP: &report.HTTPMessage{
		Line: hostile[7], Version: hostile[0], Status: 200, Reason: hostile[1], Headers: headers, Problems: []string{hostile[8], hostile[9]},
	}})
	joined := ""
	for _, h := range hostile {
		joined += h + "\n"
	}
	r := report.Result{
		Schema: report.Schema, Exercise: "udp-server", Title: "UDP server",
		Submission: "evil\x1b[31m<b>.py", File: "evil,file:name.py",
		StartedAt: start, DurationMS: 100, Version: "0.1.0",
		Checks: []report.Check{
			{ID: "udp-server/starts", Title: "starts", Category: report.Start, Status: report.Pass, MaxPoints: 2, Transcript: evs, Notes: []string{hostile[0], hostile[7], hostile[6]}},
			{
				ID: "udp-server/log-format", Title: "logs a datagram in the course's format",
				Category: report.Format, Status: report.Fail, MaxPoints: 2,
				Message:    "the log line is not in the course's format: " + hostile[6] + hostile[7],
				Expected:   `[2026-03-14 10:26:53,655] client 127.0.0.1 sent "hello"`,
				Actual:     joined,
				Traceback:  hostile[0],
				Exit:       "exited with status 1",
				Hint:       "Format the line as the course says.",
				Transcript: evs,
			},
			{
				ID: "udp-server/verbatim", Title: "logs the message verbatim",
				Category: report.Format, Status: report.Fail, MaxPoints: 1,
				Message:  "the log line does not hold the message as it was sent",
				Expected: "a line holding hello", Actual: hostile[1] + hostile[9],
				Transcript: evs,
			},
		},
	}
	r.Tally()
	return []report.Result{r}
}
