package http

import (
	"context"
	"fmt"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/checks"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/internal/racehook"
	"github.com/netgrade/netgrade/internal/report"
)

// TextSpec is the course text naming the rest-api exercise's API document:
// a built-in name (see apispec.Builtins), a file, or the
// document's text.
const TextSpec = "spec"

// TextCoercion is the course text that says whether rest-api/validation
// accepts a framework's lax coercion of a field of the wrong JSON type
// ("yes" taken as true, 12345 as "12345": FastAPI on pydantic v1 does it
// unless fields are StrictBool, StrictStr): CoercionStrict (the default,
// what the document says) or CoercionLax.
const TextCoercion = "coercion"

// The values of TextCoercion.
const (
	CoercionStrict = "strict"
	CoercionLax    = "lax"
)

// restTimeout is the watchdog of every rest-api check: each request has
// the probe's reply window, and a correct server answers a check's
// requests in well under a second on an idle machine; a framework that
// takes seconds to import (Flask, FastAPI) on a loaded one still
// finishes.
const restTimeout = 30 * time.Second

// restID returns the full ID of a rest-api check, as messages name it.
func restID(name string) string { return "rest-api/" + name }

// RESTAPI is the rest-api exercise: `PROG [PORT]` serves the JSON API the
// course's OpenAPI document describes (a to-do list by default), with any
// framework; every check comes from the document.
func RESTAPI() *graders.Exercise {
	e := &graders.Exercise{
		ID:    "rest-api",
		Title: "REST API (JSON over HTTP, described by an OpenAPI document)",
		Usage: "rest-api.py [PORT]",
		Args:  []string{"{port}"},
		Texts: map[string]string{TextSpec: apispec.DefaultName, probe.TextPort: probe.PortFollow, TextCoercion: CoercionStrict},
		TextRules: map[string]func(string) error{
			probe.TextPort: checks.PortRule,
			TextCoercion: func(v string) error {
				if v != CoercionStrict && v != CoercionLax {
					return fmt.Errorf("coercion is %q: it must be %q (a field of the wrong JSON type must be refused) or %q (a framework's lax coercion, such as pydantic v1 turning \"yes\" into true, is accepted)", v, CoercionStrict, CoercionLax)
				}
				return nil
			},
			TextSpec: func(v string) error {
				_, err := apispec.FromSetting(v)
				return err
			},
		},
	}
	starts := checks.HTTPStarts(`Serve on the port given: port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000, then ThreadingHTTPServer(("localhost", port), Handler).serve_forever(); Flask app.run(port=port); FastAPI uvicorn.run(app, port=port).`)
	def, err := apispec.Default()
	if err != nil {
		panic(fmt.Sprintf("the default course's API document does not load: %v", err)) // embedded; its test proves it loads
	}
	words := termsOf(def)
	e.Checks = []*graders.Check{starts}
	for _, c := range restChecks {
		d := wording(c.name, words)
		check := &graders.Check{
			ID: c.name, Title: d.Title, Requirement: d.Requirement, Hint: d.Hint,
			Category: c.cat, Points: c.points, Timeout: restTimeout,
			Needs:    append([]string{checks.StartsID}, c.needs...),
			Describe: describeREST(c.name),
			Run:      restRun(c.judge, c.racing),
		}
		e.Checks = append(e.Checks, check)
	}
	return graders.NewExercise(e)
}

// restCheckSpec is a rest-api check before it is worded: its texts come
// from the course's document (wording).
type restCheckSpec struct {
	name   string
	cat    report.Category
	points float64
	judge  func(context.Context, *session) error
	needs  []string
	// racing runs the program under netgrade's race hook: the check
	// judges ids, counters or the store under concurrent clients.
	racing bool
}

// restChecks are the rest-api checks, in the order reports list them.
var restChecks = []restCheckSpec{
	{name: "create", cat: report.Protocol, points: 3, judge: judgeCreate},
	{name: "read", cat: report.Protocol, points: 2, judge: judgeRead},
	{name: "list", cat: report.Protocol, points: 2, judge: judgeList},
	{name: "replace", cat: report.Protocol, points: 2, judge: judgeReplace},
	{name: "delete", cat: report.Protocol, points: 2, judge: judgeDelete},
	{name: "not-found", cat: report.Protocol, points: 2, judge: judgeNotFound},
	{name: "method-not-allowed", cat: report.Protocol, points: 1, judge: judgeMethodNotAllowed},
	{name: "validation", cat: report.Robustness, points: 2, judge: judgeValidation},
	{name: "content-type", cat: report.Protocol, points: 1, judge: judgeContentType},
	{name: "json", cat: report.Protocol, points: 1, judge: judgeJSON},
	{name: "schema", cat: report.Protocol, points: 2, judge: judgeSchema},
	{name: "encoding", cat: report.Encoding, points: 1, judge: judgeEncoding},
	{name: "persists", cat: report.Lifecycle, points: 1, judge: judgePersists},
	{name: "concurrent-creates", cat: report.Concurrency, points: 2, judge: judgeConcurrentCreates, needs: []string{"persists"}, racing: true},
	{name: "no-server-error", cat: report.Robustness, points: 1, judge: judgeNoServerError},
}

// restRun is the run function of a rest-api check: it loads the course's
// document, starts the program (handing it the document in
// NETGRADE_REST_SPEC, which netgrade's reference reads; under the race
// hook when racing), and judges it through the HTTP probe.
func restRun(judge func(context.Context, *session) error, racing bool) func(*graders.T) error {
	return func(t *graders.T) error {
		spec := t.Text(TextSpec)
		api, err := apispec.FromSetting(spec)
		if err != nil {
			return err
		}
		env := []string{apispec.SpecEnv + "=" + spec}
		if racing {
			// The race hook widens the window between a handler's read of
			// a counter or a store and its write back, so that an unlocked
			// next_id += 1 of a threaded http.server, a Flask or a FastAPI
			// program is interleaved by clients that create together every
			// time, and a locked one is only slower.
			hookEnv, done, err := racehook.ForCheck(t)
			if err != nil {
				return err
			}
			defer done()
			env = append(env, hookEnv...)
		}
		srv, err := probe.StartHTTP(t, env)
		if err != nil {
			return err
		}
		c := newProbeClient(t, srv)
		defer c.Close()
		s := newSession(api, c, t.Note)
		s.lax = t.Text(TextCoercion) == CoercionLax
		return judge(t.Context(), s)
	}
}
