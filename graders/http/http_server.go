// Package http is the course's chapter on HTTP: the http-server exercise
// (a small HTTP server and its date routes) and the rest-api exercise.
// Its checks talk to the program through the HTTP probe, which records
// every exchange.
package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/clock"
	"github.com/netgrade/netgrade/internal/httpwire"
	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/poll"
	"github.com/netgrade/netgrade/internal/report"
)

// The course texts of http-server besides probe.TextPort: the zone the
// program runs in.
const textZone = "zone"

// Named windows of http-server (see docs/http.md).
const (
	// SilentWindow is the silent-client window: how long slow-client's
	// second client waits for its answer while the first holds its
	// connection without sending. A threaded server answers in
	// milliseconds; the window is wide for a loaded machine, and only a
	// server that serves one client at a time waits it out.
	SilentWindow = 5 * time.Second
	// keepServingRequests is how many requests keeps-serving sends.
	keepServingRequests = 20
)

// Watchdogs: they bound a broken program's grading, never a correct
// one's. A check waits for its program to listen (probe.HTTPReadyTimeout)
// and for each reply (probe.ReplyTimeout): one request and the one after
// it for most checks, several for the longer ones, two programs for
// paris-seasons.
const (
	checkTimeout = 60 * time.Second
	longTimeout  = 90 * time.Second
)

// The requests of the exercise.
const (
	malformedLine = "THIS IS NOT A REQUEST LINE HTTP/1.1"
	longPathLen   = 70000
)

// route is one of the exercise's routes and the kind of body it answers.
type route struct {
	path string
	json bool
}

var routes = []route{{"/", false}, {"/date", false}, {"/date/paris", false}, {"/api/date", true}}

// HTTPServer is the http-server exercise: `PROG [PORT]` serves `/` (an
// HTML page), `/date` (the local date and time), `/date/paris` (the date
// and time in Paris, summer and winter), `/api/date` (JSON) and 404 for
// any other path, serving request after request, one silent client
// blocking no one. The program runs in a zone that is neither UTC nor
// Paris's (course text "zone", Asia/Ho_Chi_Minh by default), and under a
// faked winter and summer clock for paris-seasons.
func HTTPServer() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "http-server",
		Title: "HTTP server",
		Usage: "http-server.py [PORT]",
		Args:  []string{"{port}"},
		Texts: map[string]string{probe.TextPort: probe.PortFollow, textZone: clock.DefaultZone, textStatic: ""},
		TextRules: map[string]func(string) error{
			probe.TextPort: checks.PortRule,
			textStatic:     staticRule,
			textZone: func(v string) error {
				_, err := clock.LoadZone(v)
				if err != nil {
					return fmt.Errorf("%w: give an IANA zone name, e.g. %s", err, clock.DefaultZone)
				}
				return nil
			},
		},
		Needs:        checks.StartsID,
		CheckTimeout: checkTimeout,
		// Programs hard-code their port: two checks of one grading at once
		// would collide on it.
		Sequential: true,
	}
	e.Checks = []*graders.Check{
		checks.HTTPStarts(`HTTPServer(("localhost", serverPort), MyServer).serve_forever(), with serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 8888.`),
		{
			ID: "home", Title: "`/` answers an HTML page",
			Requirement: "`GET /` gets status 200 and an HTML page.",
			Category:    report.Protocol, Points: 1,
			Hint: `self.send_response(200), self.send_header("Content-type", "text/html"), self.end_headers(), then self.wfile.write(bytes("<html><body><h1>…</h1></body></html>", "utf-8")).`,
			Run:  httpCheckHome,
		},
		{
			ID: "date-local", Title: "`/date` shows the local date and time",
			Requirement: "`GET /date` gets 200 and a page showing the current local date and time (the program's time zone), right to ±2 minutes; a date shown is today's.",
			Category:    report.Format, Points: 2,
			Hint: "datetime.now() is the local time; datetime.utcnow() and datetime.now(timezone.utc) are UTC.",
			Run:  httpCheckDateLocal,
		},
		{
			ID: "date-paris", Title: "`/date/paris` shows the date and time in Paris",
			Requirement: "`GET /date/paris` gets 200 and a page showing the current date and time in Paris (Europe/Paris), right to ±2 minutes; a date shown is today's in Paris.",
			Category:    report.Format, Points: 2,
			Hint: `datetime.now(ZoneInfo("Europe/Paris")), with from zoneinfo import ZoneInfo (standard library since Python 3.9).`,
			Run:  httpCheckDateParis,
		},
		{
			ID: "paris-seasons", Title: "`/date/paris` is right in winter and in summer",
			Requirement: "Run with its clock at " + clock.Winter(time.UTC).Format("2006-01-02") + " and at " + clock.Summer(time.UTC).Format("2006-01-02") +
				", `/date/paris` shows Paris's time of that season: UTC+01:00 in winter, UTC+02:00 in summer.",
			Category: report.Format, Points: 2, Timeout: longTimeout,
			Hint: `A fixed offset (+2) is right half of the year: ZoneInfo("Europe/Paris") knows when Paris changes to summer time.`,
			Run:  httpCheckParisSeasons,
		},
		{
			ID: "api-json", Title: "`/api/date` answers JSON holding the current date and time",
			Requirement: "`GET /api/date` gets 200 and a JSON document (what json.loads reads) holding the current date and time: the local time, or an instant (ISO 8601 with its offset, a Unix timestamp), right to ±2 minutes.",
			Category:    report.Protocol, Points: 2,
			Hint: `Send the JSON document alone: self.send_header("Content-type", "application/json"), then self.wfile.write(bytes(json.dumps(data), "utf-8")).`,
			Run:  httpCheckAPIJSON,
		},
		{
			ID: "not-found", Title: "an unknown path gets 404",
			Requirement: "`GET` of a path the server does not have gets status 404 Not Found.",
			Category:    report.Protocol, Points: 1,
			Hint: "Route on self.path and end with else: self.send_error(404).",
			Run:  httpCheckNotFound,
		},
		{
			ID: "content-type", Title: "each route's Content-Type says what its body is",
			Requirement: "`/`, `/date` and `/date/paris` are sent as `text/html`, `/api/date` as `application/json` (a charset parameter is fine).",
			Category:    report.Protocol, Points: 1, Timeout: longTimeout,
			Hint: `self.send_header("Content-type", "text/html") for a page, self.send_header("Content-type", "application/json") for JSON.`,
			Run:  httpCheckContentType,
		},
		{
			ID: "content-length", Title: "a Content-Length, when sent, is the body's length in bytes",
			Requirement: "When a response has a `Content-Length` header, it is the number of bytes of the body sent (a response without one is fine: its body ends with the connection).",
			Category:    report.Protocol, Points: 1, Timeout: longTimeout,
			Hint: `Count bytes, not characters: body = text.encode("utf-8"); self.send_header("Content-Length", str(len(body))); self.wfile.write(body).`,
			Run:  httpCheckContentLength,
		},
		{
			ID: "keeps-serving", Title: fmt.Sprintf("serves %d requests in a row and still runs", keepServingRequests),
			Requirement: fmt.Sprintf("%d requests in a row, each on its own connection, all get a response, and the server still runs.", keepServingRequests),
			Category:    report.Lifecycle, Points: 1, Timeout: longTimeout,
			Hint: "serve_forever() serves until the program is stopped; handle_request() serves one request. On plain sockets, accept() in a `while True:` loop.",
			Run:  httpCheckKeepsServing,
		},
		{
			ID: "malformed-request", Title: "a malformed request line gets a 4xx or a close",
			Requirement: "After the request line `" + malformedLine + "`, the server answers a 4xx status (400 Bad Request) or closes the connection, and goes on serving.",
			Category:    report.Robustness, Points: 1,
			Hint: "http.server answers 400 by itself. On plain sockets, check the request line has three parts (METHOD PATH HTTP/x.y) before using them, answer \"HTTP/1.0 400 Bad Request\", and never let one client's request stop the server.",
			Run:  httpCheckMalformed,
		},
		{
			ID: "long-request-line", Title: "a 70 kB request line does not bring it down",
			Requirement: fmt.Sprintf("After a request line of %d characters, the server answers anything but a 5xx (414 URI Too Long is right) or closes the connection, and goes on serving.", longPathLen+len("GET / HTTP/1.1")),
			Category:    report.Robustness, Points: 1,
			Hint: "http.server answers 414 by itself. On plain sockets, bound how much you read, and catch OSError (\"File name too long\") where you open a file named after the path, not only FileNotFoundError.",
			Run:  httpCheckLongLine,
		},
		{
			ID: "post", Title: "`POST /date` gets 405 or 501",
			Requirement: "`POST /date` gets 405 Method Not Allowed (or 501, http.server's answer without do_POST), and the server goes on serving.",
			Category:    report.Robustness, Points: 1,
			Hint: "Without do_POST, http.server answers 501 by itself; to say it better: def do_POST(self): self.send_error(405). Do not answer a POST like a GET (do_POST = do_GET).",
			Run:  httpCheckPost,
		},
		{
			ID: "slow-client", Title: "a client that sends nothing does not block the others",
			Requirement: fmt.Sprintf("While a client holds a connection open without sending anything, another client's `GET /` is answered within %s.", SilentWindow),
			Category:    report.Security, Points: 2,
			Hint: "Anyone can connect and say nothing: HTTPServer serves one client at a time, so that one connection stops the server for everyone (a denial of service). ThreadingHTTPServer serves each client in its own thread.",
			Run:  httpCheckSlowClient,
		},
		{
			ID: "path-traversal", Title: "no file outside the static folder is served",
			Requirement: "With the course's folder of static files (text `static`), a path that climbs out of it (`/../`, `/%2e%2e/`, `/..%2f`) gets no file from outside: the program's own file, above that folder, is never sent. Only graded when the course names a static folder.",
			Category:    report.Security, Points: 2,
			OnlyWithText: textStatic,
			Hint:         "Never open os.path.join(folder, path) as it comes: a path with .. in it (or %2e%2e, decoded) leaves the folder. Resolve it with os.path.realpath and check it is still inside the folder; SimpleHTTPRequestHandler(directory=folder) does it for you.",
			Run:          httpCheckPathTraversal,
		},
	}
	return graders.NewExercise(e)
}

// program is the graded program as the date checks see it: its zone and,
// under libfaketime, its clock.
type program struct {
	*probe.HTTPServer
	local clock.Zone
	fake  *clock.FakeClock
}

// zones returns the program's local zone (the course's) and Paris's, as
// messages name them.
func zones(t *graders.T) (local, paris clock.Zone, err error) {
	name := t.Text(textZone)
	local, err = clock.LoadZone(name)
	if err != nil {
		return local, paris, fmt.Errorf("the course's zone: %w", err)
	}
	local.Name = name + " (the program's local time)"
	paris, err = clock.LoadZone(clock.ParisZone)
	if err != nil {
		return local, paris, err
	}
	paris.Name = "Paris (Europe/Paris)"
	return local, paris, nil
}

// start starts the program in the course's zone; at, when not zero, starts
// its clock there with libfaketime ft.
func start(t *graders.T, at time.Time, ft clock.Faketime) (*program, error) {
	local, _, err := zones(t)
	if err != nil {
		return nil, err
	}
	env := []string{clock.TZ(t.Text(textZone))}
	if !at.IsZero() {
		env = append(env, ft.Env(at, local.Loc)...)
	}
	s, err := probe.StartHTTP(t, env)
	if err != nil {
		return nil, err
	}
	p := &program{HTTPServer: s, local: local}
	if !at.IsZero() {
		p.fake = &clock.FakeClock{Start: at, ExecAt: s.P.Started(), ReadyAt: time.Now()}
	}
	return p, nil
}

// window is the span of instants of the program's clock an exchange's
// answer may come from.
func (p *program) window(x *httpwire.Exchange) clock.Window {
	w := clock.Window{From: x.Start, To: x.End}
	if p.fake != nil {
		return p.fake.Window(w)
	}
	return w
}

// get asks the program for path and wants a 200 response.
func (p *program) get(path string) (*httpwire.Exchange, error) {
	x := p.Get(path)
	if err := probe.NoResponse(p.HTTPServer, x, "GET "+path); err != nil {
		return x, err
	}
	if x.Response.Status != 200 {
		return x, graders.Failf("GET %s answered %s; it should answer 200 OK", path, x.Response.StatusLine()).
			Want("HTTP/1.x 200 OK", probe.Curl(x)).
			WithHint("Route on self.path: if self.path == %q: self.send_response(200) …", path)
	}
	return x, nil
}

// htmlTag finds an HTML element: what makes a body an HTML page.
var htmlTag = regexp.MustCompile(`(?i)<(?:!doctype\s+html|html|head|body|title|h[1-6]|p|div|span|a|br|ul|ol|li|table|pre|section|main|article|header|footer|strong|em|b|i)[\s>/]`)

// isHTML reports whether a body is an HTML page.
func isHTML(b []byte) bool { return htmlTag.Match(b) }

// excerpt is the start of a body, for a failure's "got".
func excerpt(b []byte) string {
	const n = 600
	s := graders.Printable(b)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	if s == "" {
		return "(an empty body)"
	}
	return s
}

func httpCheckHome(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	x, err := p.get("/")
	if err != nil {
		return err
	}
	body := x.Response.AllBody()
	if !isHTML(body) {
		return graders.Failf("GET / answered a body that is not an HTML page (it holds no HTML element)").
			Want("an HTML page: <html><body><h1>…</h1></body></html>", excerpt(body))
	}
	return nil
}

// judgeDate judges the time a date route shows.
func judgeDate(t *graders.T, p *program, path string, e clock.Expect, hints map[string]string) error {
	x, err := p.get(path)
	if err != nil {
		return err
	}
	body := x.Response.AllBody()
	v := clock.Judge(clock.Find(string(body)), p.window(x), e)
	if v.OK {
		t.Note("%s shows %q: the time in %s", path, v.Stamp.Text, v.Zone.Name)
		return nil
	}
	got := excerpt(body)
	if v.Found {
		got = v.Stamp.Text
	}
	want := fmt.Sprintf("%s (the time in %s, ±2 minutes)", v.Want, e.Want.Name)
	if v.DateWrong {
		want = fmt.Sprintf("%s, %s (in %s)", v.WantDate, v.Want, e.Want.Name)
	}
	f := graders.Failf("%s: %s", path, v.Message).Want(want, got)
	if h, ok := hints[v.Zone.Name]; ok && !v.DateWrong {
		f.Hint = h
	}
	if v.DateWrong {
		f.Hint = "Take the date and the time from the same datetime: now.strftime(\"%d/%m/%Y at %H:%M\")."
	}
	return f
}

func httpCheckDateLocal(t *graders.T) error {
	local, paris, err := zones(t)
	if err != nil {
		return err
	}
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	return judgeDate(t, p, "/date", clock.Expect{Want: local, Others: []clock.Zone{clock.UTC, paris}}, map[string]string{
		clock.UTC.Name: "/date shows the local time: datetime.now(), not datetime.utcnow() or datetime.now(timezone.utc), which are UTC.",
		paris.Name:     "/date shows the local time: datetime.now(), without a zone; Paris's time is /date/paris's.",
	})
}

func httpCheckDateParis(t *graders.T) error {
	local, paris, err := zones(t)
	if err != nil {
		return err
	}
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	// Which of Paris's two offsets is right today is paris-seasons' to
	// judge: both are accepted here.
	return judgeDate(t, p, "/date/paris", clock.Expect{
		Want: paris, Also: []clock.Zone{clock.Offset(3600), clock.Offset(7200)}, Others: []clock.Zone{clock.UTC, local},
	}, map[string]string{
		local.Name:     `/date/paris shows the local time: give datetime.now() the zone, datetime.now(ZoneInfo("Europe/Paris")).`,
		clock.UTC.Name: `/date/paris shows UTC: datetime.now(ZoneInfo("Europe/Paris")) is Paris's time.`,
	})
}

// season is a date the program's clock is set to for paris-seasons.
type season struct {
	name   string
	at     time.Time
	offset int // Paris's UTC offset then, in seconds
}

func httpCheckParisSeasons(t *graders.T) error {
	local, paris, err := zones(t)
	if err != nil {
		return err
	}
	seasons := []season{
		{"winter", clock.Winter(local.Loc), 3600},
		{"summer", clock.Summer(local.Loc), 7200},
	}
	ft, ferr := clock.FindFaketime("")
	if ferr != nil {
		_, off := time.Now().In(paris.Loc).Zone()
		t.Note("netgrade cannot fake the program's clock here (%v): it can see today's season only", ferr)
		seasons = []season{{"today", time.Time{}, off}}
	}
	var unseen []string
	for _, se := range seasons {
		p, err := start(t, se.at, ft)
		if err != nil {
			return err
		}
		why, err := judgeSeason(t, p, se, local, paris)
		p.P.Stop()
		if err != nil {
			return err
		}
		if why != "" {
			unseen = append(unseen, why)
		}
	}
	switch {
	case len(unseen) > 0:
		// Nothing seen of a season is no evidence that the page is right
		// in it: the check is left out of the score, never passed.
		return graders.NotJudgedf("%s", strings.Join(unseen, "; "))
	case ferr != nil:
		return graders.NotJudgedf("netgrade cannot fake the program's clock on this machine (%v; install libfaketime, Debian's faketime package): the page is right today, but whether it follows Paris into the other season (a fixed offset does not) cannot be seen", ferr)
	}
	return nil
}

// judgeSeason judges /date/paris at one season: it fails only when the
// page shows Paris's other offset, what a fixed offset does. When the page
// shows no Paris time at all, it returns why the season could not be
// judged (date-paris judges that page).
func judgeSeason(t *graders.T, p *program, se season, local, paris clock.Zone) (string, error) {
	other := clock.Offset(10800 - se.offset)
	day := "today"
	if !se.at.IsZero() {
		day = se.at.Format("2006-01-02")
		t.Note("the program's clock starts at %s (%s, libfaketime): Paris is on %s", se.at.Format("2006-01-02 15:04"), se.name, clock.Offset(se.offset).Name)
	}
	x := p.Get("/date/paris")
	if x.Response == nil || x.Response.Status != 200 {
		t.Note("on %s, /date/paris gave no page (date-paris judges that)", day)
		return fmt.Sprintf("on %s, /date/paris gave no page (http-server/date-paris judges that): no season can be seen", day), nil
	}
	v := clock.Judge(clock.Find(string(x.Response.AllBody())), p.window(x), clock.Expect{
		Want: paris, Others: []clock.Zone{other, clock.UTC, local},
	})
	switch {
	case v.OK || v.DateWrong:
		return "", nil
	case v.Zone.Name == other.Name:
		return "", graders.Failf("on %s (%s) the page shows %q, which is the time at %s; Paris is on %s in %s: %s",
			day, se.name, v.Stamp.Text, other.Name, clock.Offset(se.offset).Name, se.name, v.Want).
			Want(v.Want+" (Paris, "+clock.Offset(se.offset).Name+")", v.Stamp.Text)
	}
	t.Note("on %s, /date/paris shows no Paris time (%s): date-paris judges that", day, v.Message)
	return fmt.Sprintf("on %s, /date/paris shows no Paris time (http-server/date-paris judges that): no season can be seen", day), nil
}

func httpCheckAPIJSON(t *graders.T) error {
	local, paris, err := zones(t)
	if err != nil {
		return err
	}
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	x, err := p.get("/api/date")
	if err != nil {
		return err
	}
	body := x.Response.AllBody()
	stamps, jerr := clock.FindJSON(body)
	if jerr != nil {
		return graders.Failf("/api/date answers %s, not a JSON document", notJSON(body, jerr)).
			Want(`a JSON document alone, e.g. {"date": "2026-01-15", "time": "11:47:05"}`, excerpt(body))
	}
	v := clock.Judge(stamps, p.window(x), clock.Expect{
		Want: local, Others: []clock.Zone{clock.UTC, paris}, AcceptInstant: true, What: "the JSON document",
	})
	if v.OK {
		t.Note("/api/date holds %q", v.Stamp.Text)
		return nil
	}
	got := excerpt(body)
	f := graders.Failf("/api/date: %s", v.Message).Want(fmt.Sprintf("the current time: %s in %s (±2 minutes), or an instant such as %s", v.Want, local.Name, time.Now().In(local.Loc).Format(time.RFC3339)), got)
	if !v.Found {
		f.Hint = `Put the date and time in the document: json.dumps({"date": now.strftime("%Y-%m-%d"), "time": now.strftime("%H:%M:%S")}).`
	}
	return f
}

// notJSON says what a body that is not JSON is instead.
func notJSON(body []byte, err error) string {
	s := strings.TrimSpace(string(body))
	switch {
	case s == "":
		return "an empty body"
	case isHTML(body) && strings.ContainsAny(s, "{["):
		return "an HTML page with JSON written inside it"
	case isHTML(body):
		return "an HTML page"
	case strings.HasPrefix(s, "{'") || strings.Contains(s, "': ") || strings.Contains(s, "True") || strings.Contains(s, "None"):
		return "Python's repr of a dict ({'key': …}, print(data) or str(data)), which json.loads cannot read: json.dumps(data) writes JSON"
	}
	return "a body that json.loads cannot read (" + err.Error() + ")"
}

func httpCheckNotFound(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	path := fmt.Sprintf("/no-such-page-%04d", rand.IntN(10000))
	x := p.Get(path)
	if err := probe.NoResponse(p.HTTPServer, x, "GET "+path); err != nil {
		return err
	}
	switch st := x.Response.Status; {
	case st == 404:
		return nil
	case st/100 == 2:
		return graders.Failf("GET %s (a path the server does not have) answered %s; it should answer 404 Not Found", path, x.Response.StatusLine()).
			Want("HTTP/1.x 404 Not Found", probe.Curl(x)).
			WithHint("A page for a path that does not exist must say so with its status, not only in its text: route on self.path and end with else: self.send_error(404).")
	case st/100 == 5:
		return graders.Failf("GET %s (a path the server does not have) answered %s, a server error; it should answer 404 Not Found", path, x.Response.StatusLine()).
			Want("HTTP/1.x 404 Not Found", probe.Curl(x)).
			WithHint("An unknown path is the client's mistake, not the server's: answer self.send_error(404) for it instead of letting a lookup fail into 500.")
	}
	return graders.Failf("GET %s (a path the server does not have) answered %s; it should answer 404 Not Found", path, x.Response.StatusLine()).
		Want("HTTP/1.x 404 Not Found", probe.Curl(x))
}

func httpCheckContentType(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	var bad, want, got []string
	judged := 0
	for _, r := range routes {
		x := p.Get(r.path)
		if x.Response == nil || x.Response.Status != 200 {
			continue
		}
		body := x.Response.AllBody()
		mt, expected := x.Response.MediaType(), "text/html"
		if r.json {
			expected = "application/json"
			if !json.Valid(body) {
				t.Note("%s is not a JSON document: api-json judges that, not its Content-Type", r.path)
				continue
			}
		} else if !isHTML(body) {
			t.Note("%s is not an HTML page: its own check judges that, not its Content-Type", r.path)
			continue
		}
		judged++
		if mt == expected {
			continue
		}
		sent := x.Response.Get("Content-Type")
		if sent == "" {
			bad = append(bad, fmt.Sprintf("%s is sent without a Content-Type", r.path))
			sent = "(none)"
		} else {
			bad = append(bad, fmt.Sprintf("%s is sent as %q", r.path, sent))
		}
		want = append(want, fmt.Sprintf("%s: %s", r.path, expected))
		got = append(got, fmt.Sprintf("%s: %s", r.path, sent))
	}
	if len(bad) == 0 && judged == 0 {
		// No page to judge the Content-Type of: the checks of the pages
		// fail for that; this one has no evidence and is left out.
		return graders.NotJudgedf("no page of the server is a 200 response with an HTML page or a JSON document (the pages' own checks judge that): no Content-Type could be judged")
	}
	if len(bad) == 0 {
		return nil
	}
	return graders.Failf("%s; a client reads the Content-Type to know what the body is", strings.Join(bad, ", ")).
		Want(strings.Join(want, "\n"), strings.Join(got, "\n"))
}

func httpCheckContentLength(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	paths := []string{"/", "/date", "/date/paris", "/api/date", fmt.Sprintf("/no-such-page-%04d", rand.IntN(10000))}
	for _, path := range paths {
		x := p.Get(path)
		r := x.Response
		if r == nil {
			continue
		}
		for _, pr := range x.Problems {
			switch pr.Kind {
			case httpwire.LengthMismatch, httpwire.BodyCutShort, httpwire.BadContentLength:
			default:
				continue
			}
			all := r.AllBody()
			f := graders.Failf("GET %s: %s", path, pr.Text).
				Want(fmt.Sprintf("Content-Length: %d (the bytes of the body)", len(all)), "Content-Length: "+r.Get("Content-Length"))
			if pr.Kind == httpwire.LengthMismatch && r.ContentLength == int64(utf8.RuneCount(all)) {
				f.Message += ": the length counts characters, not the UTF-8 bytes sent (an accented letter is 2 bytes)"
			}
			return f
		}
	}
	return nil
}

func httpCheckKeepsServing(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	for i := range keepServingRequests {
		path := routes[i%len(routes)].path
		x := p.Get(path)
		if x.Response != nil || len(x.Raw) > 0 {
			continue
		}
		what := fmt.Sprintf("request %d of %d (GET %s), after %d answered,", i+1, keepServingRequests, path, i)
		if !p.P.Running() {
			_ = p.P.WaitOutput(t.Context())
			return graders.Failf("the program ended (%s) before %s got a reply; a server serves until it is stopped", p.P.Exit(), what).
				Want(fmt.Sprintf("%d responses and a running server", keepServingRequests), fmt.Sprintf("%d responses", i))
		}
		return graders.Failf("%s got no reply: %v", what, x.Err).
			Want(fmt.Sprintf("%d responses", keepServingRequests), probe.Curl(x))
	}
	if !p.P.Running() {
		_ = p.P.WaitOutput(t.Context())
		return graders.Failf("the program ended (%s) after %d requests; a server serves until it is stopped", p.P.Exit(), keepServingRequests)
	}
	return nil
}

// closedOrReset reports whether the program closed (or reset) the
// connection without a reply.
func closedOrReset(x *httpwire.Exchange) bool {
	return errors.Is(x.Err, httpwire.ErrClosedNoReply) || errors.Is(x.Err, httpwire.ErrReset)
}

func httpCheckMalformed(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	x := p.Do(httpwire.Request{Raw: []byte(malformedLine + "\r\n\r\n")})
	switch {
	case x.Response != nil && x.Response.Status/100 == 4:
	case x.Response != nil:
		return graders.Failf("the request line %q got %s; a request that is not HTTP gets 400 Bad Request (or the connection closed)", malformedLine, x.Response.StatusLine()).
			Want("HTTP/1.x 400 Bad Request, or a close", probe.Curl(x))
	case closedOrReset(x):
	case errors.Is(x.Err, httpwire.ErrNoReply):
		return graders.Failf("the request line %q got no reply within %s, and the connection stayed open", malformedLine, t.Timeout(probe.ReplyTimeout)).
			Want("HTTP/1.x 400 Bad Request, or a close", probe.Curl(x))
	case errors.Is(x.Err, httpwire.ErrNotHTTP):
		return graders.Failf("the request line %q got a reply that is not HTTP", malformedLine).
			Want("HTTP/1.x 400 Bad Request, or a close", probe.Curl(x))
	}
	return p.StillServes("after the malformed request line " + fmt.Sprintf("%q", malformedLine))
}

func httpCheckLongLine(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	line := "GET /" + strings.Repeat("a", longPathLen) + " HTTP/1.1"
	x := p.Do(httpwire.Request{Method: "GET", Raw: []byte(line + "\r\nHost: " + p.Addr() + "\r\n\r\n")})
	switch {
	case x.Response != nil && x.Response.Status/100 == 5:
		return graders.Failf("a %d-character request line got %s, a server error; a line too long gets 414 URI Too Long", len(line), x.Response.StatusLine()).
			Want("414 URI Too Long (or any 4xx), or a close", probe.Curl(x))
	case x.Response != nil, closedOrReset(x):
	case errors.Is(x.Err, httpwire.ErrNoReply) && p.P.Running():
		return graders.Failf("a %d-character request line got no reply within %s, and the connection stayed open", len(line), t.Timeout(probe.ReplyTimeout)).
			Want("414 URI Too Long (or any 4xx), or a close", probe.Curl(x))
	}
	return p.StillServes(fmt.Sprintf("after a request line of %d characters", len(line)))
}

func httpCheckPost(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	x := p.Do(httpwire.Request{Method: "POST", Path: "/date", Header: []httpwire.Field{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}})
	if err := probe.NoResponse(p.HTTPServer, x, "POST /date"); err != nil {
		return err
	}
	if st := x.Response.Status; st != 405 && st != 501 {
		f := graders.Failf("POST /date answered %s; a route that only reads gets 405 Method Not Allowed (or 501 Not Implemented)", x.Response.StatusLine()).
			Want("HTTP/1.x 405 Method Not Allowed, or 501", probe.Curl(x))
		if st/100 == 2 {
			f.Message += ": it answers a POST as if it were a GET"
		}
		return f
	}
	return p.StillServes("after POST /date")
}

func httpCheckSlowClient(t *graders.T) error {
	p, err := start(t, time.Time{}, clock.Faketime{})
	if err != nil {
		return err
	}
	silent, err := p.Dial()
	if err != nil {
		return err
	}
	defer silent.Close()
	t.Note("this client sends nothing and keeps its connection open")
	accepted := waitAccepted(t, p)
	if !accepted {
		t.Note("the program did not accept the silent client within %s", t.Timeout(probe.ReplyTimeout))
	}
	x := p.DoWithin(httpwire.Request{Method: "GET", Path: "/"}, SilentWindow)
	if x.Response != nil || len(x.Raw) > 0 || closedOrReset(x) {
		return nil
	}
	if !p.P.Running() {
		return probe.NoResponse(p.HTTPServer, x, "the second client's GET /")
	}
	return graders.Failf("while a first client held its connection open without sending anything, a second client's GET / got no reply within %s: the server serves one client at a time, and waits for the first one's request", t.Timeout(SilentWindow)).
		Want(fmt.Sprintf("a response to the second client within %s", t.Timeout(SilentWindow)), probe.Curl(x))
}

// waitAccepted waits until the program has accepted every connection made
// to it (its listen queue is empty), within the reply window: then a silent
// client is the program's, not the kernel's. It looks with internal/poll's
// backoff and gives up when the window ends or the program exits.
func waitAccepted(t *graders.T, p *program) bool {
	ctx, cancel := context.WithTimeout(t.Context(), t.Timeout(probe.ReplyTimeout))
	defer cancel()
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		q, found, err := observe.ListenQueue(p.P.Pid(), p.Port)
		switch {
		case err != nil:
			return poll.Continue("reading the listen queue: %v", err)
		case !found:
			return poll.Continue("no socket of the program listens on port %d", p.Port)
		case q > 0:
			return poll.Continue("%d connections wait to be accepted", q)
		}
		return poll.Done()
	}, poll.Backoff(poll.DefaultFirst, acceptLookCap), poll.StopOn(p.P.Done(), observe.ErrExited))
	return err == nil
}

// acceptLookCap is the longest delay between two looks of waitAccepted.
const acceptLookCap = 10 * time.Millisecond
