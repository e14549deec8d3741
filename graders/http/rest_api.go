package http

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/internal/racehook"
	"github.com/netgrade/netgrade/internal/report"
)

// TextSpec is the course text naming the rest-api exercise's API document:
// a built-in name (todo-api.yaml, books-api.yaml), a file, or the
// document's text.
const TextSpec = "spec"

// restTimeout is the watchdog of the checks that send many requests: each
// has the probe's reply window, and a correct server answers them all in
// well under a second.
const restTimeout = 30 * time.Second

// restID returns the full ID of a rest-api check.
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
		Texts: map[string]string{TextSpec: apispec.DefaultName, probe.TextPort: probe.PortFollow},
		TextRules: map[string]func(string) error{
			probe.TextPort: probe.PortRule,
			TextSpec: func(v string) error {
				_, err := apispec.FromSetting(v)
				return err
			},
		},
	}
	starts := probe.HTTPStartsCheck(e.ID, `Serve on the port given: port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000, then ThreadingHTTPServer(("localhost", port), Handler).serve_forever(); Flask app.run(port=port); FastAPI uvicorn.run(app, port=port).`)
	e.Checks = []*graders.Check{
		starts,
		restCheck("create", "POST creates an item and answers it with its id", report.Protocol, 3,
			"`POST /api/todos` with a valid body answers 201 Created and the created item: the fields sent, the defaults of those left out (`done: false`) and a new `id`. A `Location` header, when sent, leads to the item.",
			"Flask: return jsonify(item), 201; http.server: self.send_response(201), the headers, then self.wfile.write(json.dumps(item).encode()); FastAPI: @app.post(\"/api/todos\", status_code=201) returning the item. Give the item its id before answering: item[\"id\"] = next_id.",
			judgeCreate),
		restCheck("read", "GET reads an item back as created", report.Protocol, 2,
			"`GET /api/todos/{id}` of a created item answers 200 OK and the item, its id included, as it was created.",
			"Look the item up by its id, which arrives as text in the path: Flask @app.get(\"/api/todos/<int:id>\"); http.server int(self.path.split(\"/\")[-1]); FastAPI def get(id: int). Answer the whole item, its id included.",
			judgeRead),
		restCheck("list", "GET lists every item as a JSON array", report.Protocol, 2,
			"`GET /api/todos` answers 200 OK and a JSON array holding every item.",
			"Answer the list itself: Flask return jsonify(list(todos.values())); http.server json.dumps(list(todos.values())); FastAPI return list(todos.values()).",
			judgeList),
		restCheck("replace", "PUT replaces an item, the same way twice", report.Protocol, 2,
			"`PUT /api/todos/{id}` with a valid body replaces the item, keeps its id, and answers 200 OK and the item (204 No Content is accepted); the same PUT twice leaves the same state.",
			"Replace the stored item and keep its id: todos[id] = {**data, \"id\": id}; do not append a new item.",
			judgeReplace),
		restCheck("delete", "DELETE deletes an item", report.Protocol, 2,
			"`DELETE /api/todos/{id}` deletes the item and answers 204 No Content (200 is accepted); the item is gone from GET and from the list.",
			"del todos[id], then Flask return \"\", 204; http.server self.send_response(204); self.end_headers(); FastAPI @app.delete(..., status_code=204).",
			judgeDelete),
		restCheck("not-found", "an unknown id gets 404", report.Protocol, 2,
			"`GET`, `PUT` and `DELETE` of an id there is no item for answer 404 Not Found: not 200, not a 5xx.",
			"Check before you look up: if id not in todos, answer 404 with a JSON error (Flask: return jsonify({\"error\": \"not found\"}), 404; FastAPI: raise HTTPException(status_code=404)). todos[id] on an unknown id raises KeyError: a 500, or a connection closed without an answer.",
			judgeNotFound),
		restCheck("method-not-allowed", "a method the path lacks gets 405", report.Protocol, 1,
			"A method the document does not give a path (`PUT /api/todos`, `DELETE /api/todos`, `POST /api/todos/{id}`) answers 405 Method Not Allowed.",
			"Flask and FastAPI answer 405 themselves for the methods a route does not list; with http.server, do_DELETE must answer self.send_response(405) for /api/todos, not 404.",
			judgeMethodNotAllowed),
		withTimeout(restCheck("validation", "invalid bodies get 400, never a crash", report.Robustness, 2,
			"POST and PUT answer 400 Bad Request (422 is accepted) to a body that is not JSON, not a JSON object, lacks a required field, has a field of the wrong type, or a field the document does not allow; never a 5xx or a closed connection.",
			"Flask: data = request.get_json(silent=True) (None when the body is not JSON), then if not isinstance(data, dict) or not isinstance(data.get(\"title\"), str): return jsonify({\"error\": ...}), 400; http.server: try: data = json.loads(body) except json.JSONDecodeError: answer 400; FastAPI: a pydantic model with StrictStr, StrictBool and extra = \"forbid\" answers 422 by itself.",
			judgeValidation)),
		restCheck("content-type", "every answer is application/json", report.Protocol, 1,
			"Every answer with a body, errors included, says `Content-Type: application/json`.",
			"Flask: jsonify(...) sets it, and @app.errorhandler(404) / @app.errorhandler(405) returning jsonify(...) replace Flask's HTML pages; http.server: self.send_header(\"Content-Type\", \"application/json\") on every answer, errors too (send_error writes HTML).",
			judgeContentType),
		restCheck("json", "every body is JSON", report.Protocol, 1,
			"Every body is JSON, as json.dumps writes it, errors included; an error carries a JSON object.",
			"Write json.dumps(item).encode(\"utf-8\"): str(item) writes Python's notation, with single quotes and True/False/None.",
			judgeJSON),
		restCheck("schema", "answers match the document's schemas", report.Protocol, 2,
			"The JSON of every answer has the types the document gives: the id an integer, the title a string, done a boolean, the list an array of items, errors an object.",
			"Keep each value in its type: int() the id once and store the int; json.dumps writes True as true.",
			judgeSchema),
		restCheck("encoding", "non-ASCII text comes back intact", report.Encoding, 1,
			"A title such as `các bạn` is stored and sent back unchanged.",
			"Decode the request body as UTF-8 (body.decode(\"utf-8\"), or give json.loads the bytes) and encode the answer with .encode(\"utf-8\").",
			judgeEncoding),
		restCheck("persists", "items survive between connections", report.Lifecycle, 1,
			"An item created by one client, on its connection, is there for the next client on another.",
			"Keep the collection in the server (a module-level dict, or an attribute of the server object), not in the handler: http.server makes a new handler for every connection.",
			judgePersists),
		withTimeout(needs(racing(restCheck("concurrent-creates", "ten clients creating at once get distinct ids", report.Concurrency, 2,
			"Ten clients that create items at the same time each get their item, with an id of its own.",
			"Handlers run at the same time (ThreadingHTTPServer, Flask, FastAPI): guard the counter and the collection with a threading.Lock(): with lock: next_id += 1; item[\"id\"] = next_id; todos[next_id] = item.",
			judgeConcurrentCreates)), restID("persists"))),
		restCheck("no-server-error", "odd requests never get a server error", report.Robustness, 1,
			"Whatever a client sends (an id that is not a number, a path below an item, a query string, a body sent as text/plain), the server answers below 500 and keeps serving.",
			"int(\"abc\") raises ValueError: catch it and answer 404 (Flask's <int:id> and FastAPI's id: int do it for you); route on the path without its query string.",
			judgeNoServerError),
	}
	return e
}

// restCheck builds a rest-api check: it loads the course's document,
// starts the program (handing it the document in NETGRADE_REST_SPEC, which
// netgrade's reference reads), and judges it through the HTTP probe.
func restCheck(name, title string, cat report.Category, points float64, requirement, hint string, judge func(context.Context, *session) error) *graders.Check {
	return restCheckHooked(name, title, cat, points, requirement, hint, judge, false)
}

// racing makes a rest-api check run its program under netgrade's race
// hook: a check that judges ids, counters or the store under concurrent
// clients.
func racing(c *graders.Check) *graders.Check {
	name := c.ID[len("rest-api/"):]
	judge := restJudges[c.ID]
	return restCheckHooked(name, c.Title, c.Category, c.Points, c.Requirement, c.Hint, judge, true)
}

// restJudges are the judging functions of the checks built so far, by ID,
// for racing to rebuild one.
var restJudges = map[string]func(context.Context, *session) error{}

func restCheckHooked(name, title string, cat report.Category, points float64, requirement, hint string, judge func(context.Context, *session) error, hooked bool) *graders.Check {
	return &graders.Check{
		ID: restID(name), Title: title, Requirement: requirement, Category: cat, Points: points, Hint: hint,
		Needs: []string{restID("starts")},
		Run: func(ctx context.Context, t *graders.T) error {
			spec := t.Text(TextSpec)
			api, err := apispec.FromSetting(spec)
			if err != nil {
				return err
			}
			env := []string{apispec.SpecEnv + "=" + spec}
			if hooked {
				hookEnv, done, err := restRaceHook(t)
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
			return judge(ctx, newSession(api, c, t.Note))
		},
	}
}

// restRaceHook installs netgrade's race hook for one check, unless the
// course turns it off, and returns the environment that loads it and a
// function that notes in the report whether it was active and removes it.
// The hook widens the window between a handler's read of a counter or a
// store and its write back (a store to shared state sleeps while other
// threads run), so that an unlocked `next_id += 1` of a threaded
// http.server, a Flask or a FastAPI program is interleaved by clients that
// create together every time, and a locked one is only slower.
func restRaceHook(t *graders.T) (env []string, done func(), err error) {
	if !t.RaceHook() {
		t.Notice("netgrade's race hook is off (run.race_hook: false in the course): races on the id counter show only when the scheduler happens to interleave clients")
		return nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "netgrade-racehook-")
	if err != nil {
		return nil, nil, fmt.Errorf("installing the race hook: %w", err)
	}
	hook, err := racehook.Install(dir, racehook.DefaultConfig())
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("installing the race hook: %w", err)
	}
	return hook.Env(nil), func() {
		t.Notice("%s", hook.Describe())
		os.RemoveAll(dir)
	}, nil
}

func withTimeout(c *graders.Check) *graders.Check {
	c.Timeout = restTimeout
	return c
}

func needs(c *graders.Check, ids ...string) *graders.Check {
	c.Needs = append(c.Needs, ids...)
	return c
}
