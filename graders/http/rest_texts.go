package http

import (
	"fmt"
	nethttp "net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/apispec"
)

// terms are the words of a course's API document that the rest-api
// checks' texts are made of: its paths, fields and statuses. Every title,
// requirement and hint is written from them, so that a course whose
// document serves /tasks with a completed field reads `POST /tasks` and
// `completed: false`, never the default document's words.
type terms struct {
	api *apispec.API
	// coll and item are the collection and item paths.
	coll, item string
	// idField names the id in an item; idParam in the item path.
	idField, idParam string
	intID            bool
	// store is a Python name for the collection: "todos", "books".
	store string
	// text is a string field a client sends (a required one first);
	// empty when there is none.
	text string
	// flag is a boolean field with a default, and that default ("false");
	// empty when there is none.
	flag, flagDefault string
	// The statuses the document gives, with the ones accepted in their
	// place.
	created, replaced, deleted, rejected, notFound apispec.Expectation
}

// pythonName matches what may stand as a Python variable's name.
var pythonName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// termsOf reads a document's terms.
func termsOf(api *apispec.API) terms {
	c := api.Collection
	t := terms{api: api, coll: c.Path, item: c.ItemPath, idField: c.IDField, idParam: c.IDParam, intID: c.IDType == "integer", store: "items"}
	segs := strings.Split(strings.Trim(c.Path, "/"), "/")
	if last := strings.ReplaceAll(segs[len(segs)-1], "-", "_"); pythonName.MatchString(last) {
		t.store = last
	}
	props := make([]string, 0, len(c.Create.Properties))
	for name := range c.Create.Properties {
		props = append(props, name)
	}
	sort.Slice(props, func(i, j int) bool {
		ri, rj := slices.Contains(c.Create.Required, props[i]), slices.Contains(c.Create.Required, props[j])
		if ri != rj {
			return ri
		}
		return props[i] < props[j]
	})
	for _, name := range props {
		p := c.Create.Properties[name].Value
		if p == nil {
			continue
		}
		if t.text == "" && p.Type.Is("string") && len(p.Enum) == 0 && p.Pattern == "" && p.Format == "" {
			t.text = name
		}
		if d, ok := p.Default.(bool); ok && t.flag == "" && p.Type.Is("boolean") {
			t.flag, t.flagDefault = name, fmt.Sprint(d)
		}
	}
	t.created = api.Success(nethttp.MethodPost, c.Path, nethttp.StatusCreated)
	t.replaced = api.Success(nethttp.MethodPut, c.ItemPath, nethttp.StatusOK)
	t.deleted = api.Success(nethttp.MethodDelete, c.ItemPath, nethttp.StatusNoContent)
	t.rejected = api.Rejection(nethttp.MethodPost, c.Path)
	t.notFound = api.Expect(nethttp.MethodGet, c.ItemPath, func(st int) bool { return st == nethttp.StatusNotFound }, nethttp.StatusNotFound)
	return t
}

// status writes a status as a student reads it: "201 Created".
func status(code int) string { return fmt.Sprintf("%d %s", code, nethttp.StatusText(code)) }

// statuses writes what an expectation asks for: "201 Created (200 OK is
// accepted)".
func statuses(e apispec.Expectation) string {
	var doc []string
	for _, st := range e.Documented {
		doc = append(doc, status(st))
	}
	s := strings.Join(doc, " or ")
	var alt []string
	for _, st := range e.Accepted[len(e.Documented):] {
		alt = append(alt, status(st))
	}
	switch len(alt) {
	case 0:
	case 1:
		s += " (" + alt[0] + " is accepted)"
	default:
		s += " (" + strings.Join(alt, " or ") + " are accepted)"
	}
	return s
}

// primary is the first documented status of an expectation.
func primary(e apispec.Expectation) int { return e.Documented[0] }

// flaskItem is the item path as a Flask route writes it:
// /api/todos/<int:id>.
func (t terms) flaskItem() string {
	conv := "<" + t.idParam + ">"
	if t.intID {
		conv = "<int:" + t.idParam + ">"
	}
	return strings.Replace(t.item, "{"+t.idParam+"}", conv, 1)
}

// param is the id's Python name in a handler.
func (t terms) param() string {
	if pythonName.MatchString(t.idParam) {
		return t.idParam
	}
	return "item_id"
}

// withDefault says what a created item holds of the fields left out:
// "the defaults of those left out (`done: false`)", or nothing.
func (t terms) withDefault() string {
	if t.flag == "" {
		return ""
	}
	return fmt.Sprintf(", the defaults of those left out (`%s: %s`)", t.flag, t.flagDefault)
}

// types lists the types an item's fields have: "the `id` an integer, the
// `title` a string, `done` true or false".
func (t terms) types() string {
	s := t.api.Collection.Item
	if t.api.Collection.AnyItem || len(s.Properties) == 0 {
		s = t.api.Collection.Create
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		if p := s.Properties[n].Value; p != nil {
			parts = append(parts, fmt.Sprintf("`%s` %s", n, typeWords(p)))
		}
	}
	if len(parts) > 4 {
		parts = append(parts[:4], "…")
	}
	return strings.Join(parts, ", ")
}

// typeWords names a field's type, with its format when it has one.
func typeWords(p *openapi3.Schema) string {
	switch {
	case p.Format != "" && p.Type.Is("string"):
		return strings.SplitN(apispec.FormatWords(p.Format), ",", 2)[0]
	case p.Type.Is("string"):
		return "a string"
	case p.Type.Is("integer"):
		return "an integer"
	case p.Type.Is("number"):
		return "a number"
	case p.Type.Is("boolean"):
		return "true or false"
	case p.Type.Is("array"):
		return "a list"
	case p.Type.Is("object"):
		return "an object"
	}
	return "any JSON value"
}

// notAllowed lists the requests that must get 405, as code.
func (t terms) notAllowed() string {
	var out []string
	for _, na := range t.api.NotAllowed() {
		out = append(out, "`"+na.Method+" "+na.Path+"`")
	}
	if len(out) == 0 {
		return "a method the document does not give a path"
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return strings.Join(out, ", ")
}

// textCheck is what the validation hint names: a required string field.
func (t terms) textCheck() string {
	if t.text == "" {
		return "the required fields and their types"
	}
	return fmt.Sprintf("isinstance(data.get(%q), str)", t.text)
}

// wording returns the title, requirement and hint of a rest-api check,
// by its name, in a document's terms.
func wording(name string, t terms) graders.Description {
	item := "the item"
	switch name {
	case "create":
		return graders.Description{
			Title: "POST creates an item and answers it with its id",
			Requirement: fmt.Sprintf("`POST %s` with a valid body answers %s and the created item: the fields sent%s and a new `%s`. A `Location` header, when sent, leads to the item.",
				t.coll, statuses(t.created), t.withDefault(), t.idField),
			Hint: fmt.Sprintf("Flask: return jsonify(item), %d; http.server: self.send_response(%d), the headers, then self.wfile.write(json.dumps(item).encode()); FastAPI: @app.post(%q, status_code=%d) returning the item. Give the item its id before answering: item[%q] = next_id.",
				primary(t.created), primary(t.created), t.coll, primary(t.created), t.idField),
		}
	case "read":
		return graders.Description{
			Title:       "GET reads an item back as created",
			Requirement: fmt.Sprintf("`GET %s` of a created item answers 200 OK and %s, its `%s` included, as it was created.", t.item, item, t.idField),
			Hint: fmt.Sprintf("Look the item up by its id, which arrives as text in the path: Flask @app.get(%q); http.server int(self.path.split(\"/\")[-1]); FastAPI def get(%s: int). Answer the whole item, its id included.",
				t.flaskItem(), t.param()),
		}
	case "list":
		return graders.Description{
			Title:       "GET lists every item as a JSON array",
			Requirement: fmt.Sprintf("`GET %s` answers 200 OK and a JSON array holding every item.", t.coll),
			Hint: fmt.Sprintf("Answer the list itself: Flask return jsonify(list(%[1]s.values())); http.server json.dumps(list(%[1]s.values())); FastAPI return list(%[1]s.values()).",
				t.store),
		}
	case "replace":
		return graders.Description{
			Title: "PUT replaces an item, the same way twice",
			Requirement: fmt.Sprintf("`PUT %s` with a valid body replaces the item, keeps its `%s`, and answers %s and the item; the same PUT twice leaves the same state.",
				t.item, t.idField, statuses(t.replaced)),
			Hint: fmt.Sprintf("Replace the stored item and keep its id: %s[%s] = {**data, %q: %s}; do not append a new item.", t.store, t.param(), t.idField, t.param()),
		}
	case "delete":
		return graders.Description{
			Title:       "DELETE deletes an item",
			Requirement: fmt.Sprintf("`DELETE %s` deletes the item and answers %s; the item is gone from GET and from the list.", t.item, statuses(t.deleted)),
			Hint: fmt.Sprintf("del %s[%s], then Flask return \"\", %d; http.server self.send_response(%d); self.end_headers(); FastAPI @app.delete(%q, status_code=%d).",
				t.store, t.param(), primary(t.deleted), primary(t.deleted), t.item, primary(t.deleted)),
		}
	case "not-found":
		return graders.Description{
			Title:       "an unknown id gets " + fmt.Sprint(primary(t.notFound)),
			Requirement: fmt.Sprintf("`GET`, `PUT` and `DELETE` of an id there is no item for answer %s: not 200, not a 5xx.", statuses(t.notFound)),
			Hint: fmt.Sprintf("Check before you look up: if %[1]s not in %[2]s, answer 404 with a JSON error (Flask: return jsonify({\"error\": \"not found\"}), 404; FastAPI: raise HTTPException(status_code=404)). %[2]s[%[1]s] on an unknown id raises KeyError: a 500, or a connection closed without an answer.",
				t.param(), t.store),
		}
	case "method-not-allowed":
		return graders.Description{
			Title:       "a method the path lacks gets 405",
			Requirement: fmt.Sprintf("A method the document does not give a path (%s) answers 405 Method Not Allowed.", t.notAllowed()),
			Hint: fmt.Sprintf("Flask and FastAPI answer 405 themselves for the methods a route does not list; with http.server, do_DELETE must answer self.send_response(405) for %s, not 404.",
				t.coll),
		}
	case "validation":
		return graders.Description{
			Title: fmt.Sprintf("invalid bodies get %d, never a crash", primary(t.rejected)),
			Requirement: fmt.Sprintf("POST and PUT answer %s to a body that is not JSON, not a JSON object, lacks a required field, has a field of the wrong type, or a field the document does not allow; never a 5xx or a closed connection.",
				statuses(t.rejected)),
			Hint: fmt.Sprintf("Flask: data = request.get_json(silent=True) (None when the body is not JSON), then if not isinstance(data, dict) or not %s: return jsonify({\"error\": ...}), %d; http.server: try: data = json.loads(body) except json.JSONDecodeError: answer %d; FastAPI: a pydantic model with StrictStr, StrictBool and extra = \"forbid\" answers 422 by itself.",
				t.textCheck(), primary(t.rejected), primary(t.rejected)),
		}
	case "content-type":
		return graders.Description{
			Title:       "every answer is application/json",
			Requirement: "Every answer with a body, errors included, says `Content-Type: application/json`.",
			Hint:        "Flask: jsonify(...) sets it, and @app.errorhandler(404) / @app.errorhandler(405) returning jsonify(...) replace Flask's HTML pages; http.server: self.send_header(\"Content-Type\", \"application/json\") on every answer, errors too (send_error writes HTML).",
		}
	case "json":
		return graders.Description{
			Title:       "every body is JSON",
			Requirement: "Every body is JSON, as json.dumps writes it, errors included; an error carries a JSON object.",
			Hint:        "Write json.dumps(item).encode(\"utf-8\"): str(item) writes Python's notation, with single quotes and True/False/None.",
		}
	case "schema":
		return graders.Description{
			Title:       "answers match the document's schemas",
			Requirement: fmt.Sprintf("The JSON of every answer has the types the document gives: %s, the list an array of items, errors an object.", t.types()),
			Hint:        "Keep each value in the type the document gives it, and let json.dumps write it: it writes True as true.",
		}
	case "encoding":
		text := "a text field"
		if t.text != "" {
			text = "`" + t.text + "`"
		}
		return graders.Description{
			Title:       "non-ASCII text comes back intact",
			Requirement: fmt.Sprintf("A text such as `các bạn` in %s is stored and sent back unchanged.", text),
			Hint:        "Decode the request body as UTF-8 (body.decode(\"utf-8\"), or give json.loads the bytes) and encode the answer with .encode(\"utf-8\").",
		}
	case "persists":
		return graders.Description{
			Title:       "items survive between connections",
			Requirement: "An item created by one client, on its connection, is there for the next client on another.",
			Hint:        fmt.Sprintf("Keep %s in the server (a module-level dict, or an attribute of the server object), not in the handler: http.server makes a new handler for every connection.", t.store),
		}
	case "concurrent-creates":
		return graders.Description{
			Title:       "ten clients creating at once get distinct ids",
			Requirement: fmt.Sprintf("Ten clients that create items at the same time (`POST %s`) each get their item, with its own `%s`.", t.coll, t.idField),
			Hint: fmt.Sprintf("Handlers run at the same time (ThreadingHTTPServer, Flask, FastAPI): guard the counter and %[1]s with a threading.Lock(): with lock: next_id += 1; item[%[2]q] = next_id; %[1]s[next_id] = item.",
				t.store, t.idField),
		}
	case "no-server-error":
		what := "a path below an item, a query string, a body sent as text/plain"
		if t.intID {
			what = "an id that is not a number, " + what
		}
		return graders.Description{
			Title:       "odd requests never get a server error",
			Requirement: fmt.Sprintf("Whatever a client sends (%s), the server answers below 500 and keeps serving.", what),
			Hint: fmt.Sprintf("int(\"abc\") raises ValueError: catch it and answer 404 (Flask's %s and FastAPI's %s: int do it for you); route on the path without its query string.",
				t.flaskItem(), t.param()),
		}
	}
	return graders.Description{}
}

// describeREST words a rest-api check under the course's texts: from the
// course's document; the zero Description (the static texts) when the
// document does not load, which the course file's rule reports. The
// engine asks for a check's wording for every grading: the terms of the
// documents seen are kept (a course has one or two), so that a batch does
// not load the document again for each student and check.
func describeREST(name string) func(text func(string) string) graders.Description {
	var mu sync.Mutex
	seen := map[string]terms{}
	return func(text func(string) string) graders.Description {
		spec := text(TextSpec)
		mu.Lock()
		t, ok := seen[spec]
		mu.Unlock()
		if !ok {
			api, err := apispec.FromSetting(spec)
			if err != nil {
				return graders.Description{}
			}
			t = termsOf(api)
			mu.Lock()
			if len(seen) >= maxDocuments {
				clear(seen)
			}
			seen[spec] = t
			mu.Unlock()
		}
		return wording(name, t)
	}
}

// maxDocuments bounds the terms describeREST keeps.
const maxDocuments = 8
