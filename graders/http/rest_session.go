package http

import (
	"context"
	"fmt"
	"mime"
	nethttp "net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/netgrade/netgrade/internal/httpwire"
)

// restExchange is one request of a rest-api check and what came back, in
// the terms the judging needs; wire is the probe's record of it (nil in
// unit tests), which failures show as `curl -v` would.
type restExchange struct {
	Method string
	Path   string
	Body   []byte

	// Status is 0 when no response came; Err then says why.
	Status     int
	RespHeader nethttp.Header
	RespBody   []byte
	Err        error
	// Traceback is the last line of the traceback the program printed
	// while it served this request (a server error only), e.g.
	// "KeyError: 'title'".
	Traceback string

	wire *httpwire.Exchange
}

// restClient sends a check's requests to the program.
type restClient interface {
	// Do sends one request and returns the exchange (never nil).
	Do(ctx context.Context, method, path string, header nethttp.Header, body []byte) *restExchange
	// Fresh returns a client whose every request goes over a connection
	// of its own, closed after the response.
	Fresh() restClient
	// Close closes the client's connections.
	Close()
}

// session is what a rest-api check works with: the document, a client,
// the generators of the bodies it sends, and where its notes go.
type session struct {
	api  *apispec.API
	c    restClient
	gen  *apispec.Generator // bodies for POST
	rgen *apispec.Generator // bodies for PUT; nil without PUT
	note func(format string, args ...any)
	// lax accepts a framework's coercion of a field of the wrong JSON
	// type (the course's coercion text).
	lax bool
}

func newSession(api *apispec.API, c restClient, note func(string, ...any)) *session {
	s := &session{api: api, c: c, gen: apispec.NewGenerator(api.Collection.Create, apispec.Seed), note: note}
	if api.Collection.Replace != nil {
		s.rgen = apispec.NewGenerator(api.Collection.Replace, apispec.Seed+1)
	}
	if s.note == nil {
		s.note = func(string, ...any) {}
	}
	return s
}

// jsonHeader is the header of a request with a JSON body.
var jsonHeader = nethttp.Header{"Content-Type": {"application/json"}}

// send sends a request with a JSON body, or none.
func (s *session) send(ctx context.Context, method, path string, body []byte) *restExchange {
	var h nethttp.Header
	if body != nil {
		h = jsonHeader.Clone()
	}
	return s.c.Do(ctx, method, path, h, body)
}

// item is an item a check created, as far as it could find out.
type item struct {
	sent apispec.Body
	ex   *restExchange
	// id is the id as a path writes it; empty when it could not be found.
	id string
	// want is what the item holds: the POST's answer when it was an
	// object with the id, else the fields sent with their defaults and
	// the id found.
	want map[string]any
}

// create posts a body and finds the new item's id: in the answer, else in
// its Location, else by looking for the fields sent in the list. A check
// that needs an item tolerates what create judges.
func (s *session) create(ctx context.Context, body apispec.Body) item {
	coll := s.api.Collection
	ex := s.send(ctx, nethttp.MethodPost, coll.Path, body.Raw)
	it := item{sent: body, ex: ex}
	if ex.Status < 200 || ex.Status > 299 {
		return it
	}
	if obj, _, ok := object(ex); ok && obj[coll.IDField] != nil {
		it.id, it.want = idText(obj[coll.IDField]), obj
		return it
	}
	want := apispec.Expected(coll.Create, body.Value)
	if id := s.idFromLocation(ex); id != "" {
		it.id = id
	} else {
		it.id = s.idFromList(ctx, want)
	}
	if it.id != "" {
		want[coll.IDField] = it.id
		it.want = want
	}
	return it
}

// setup creates the item a check needs, or skips the check.
func (s *session) setup(ctx context.Context, body apispec.Body) (item, error) {
	it := s.create(ctx, body)
	if it.id == "" {
		return it, graders.Skipf("no item could be created (POST %s → %s): see %s", s.api.Collection.Path, statusText(it.ex), restID("create"))
	}
	return it, nil
}

// idFromLocation reads the id at the end of a Location header that points
// into the collection.
func (s *session) idFromLocation(ex *restExchange) string {
	u, err := url.Parse(ex.RespHeader.Get("Location"))
	if err != nil || u.Path == "" {
		return ""
	}
	id, ok := strings.CutPrefix(u.Path, strings.TrimSuffix(s.api.Collection.Path, "/")+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// idFromList finds in the list the id of the item that holds the fields
// of want.
func (s *session) idFromList(ctx context.Context, want map[string]any) string {
	ex := s.send(ctx, nethttp.MethodGet, s.api.Collection.Path, nil)
	list, ok := recognise(ex).Value.([]any)
	if ex.Status != nethttp.StatusOK || !ok {
		return ""
	}
	idField := s.api.Collection.IDField
	for _, el := range list {
		if obj, ok := el.(map[string]any); ok && obj[idField] != nil && len(differences(want, obj, idField)) == 0 {
			return idText(obj[idField])
		}
	}
	return ""
}

// unknownID is an id no item has.
func (s *session) unknownID() string {
	if s.api.Collection.IDType == "integer" {
		return "999999"
	}
	return "no-such-item"
}

// putBody is a valid body for PUT (for POST when the document has no PUT).
func (s *session) putBody() apispec.Body {
	if s.rgen != nil {
		return s.rgen.Full()
	}
	return s.gen.Full()
}

// conflictWords are what an answer that refuses a duplicate says.
var conflictWords = []string{"duplicate", "already exist", "exists", "unique", "conflict", "taken"}

// conflict reports whether an answer refuses a body as a duplicate of an
// item already there: 409 Conflict, or a 400 or 422 whose body says so.
func conflict(ex *restExchange) bool {
	if ex.Status == nethttp.StatusConflict {
		return true
	}
	if ex.Status != nethttp.StatusBadRequest && ex.Status != nethttp.StatusUnprocessableEntity {
		return false
	}
	body := strings.ToLower(string(ex.RespBody))
	for _, w := range conflictWords {
		if strings.Contains(body, w) {
			return true
		}
	}
	return false
}

// unvaried returns the fields of the bodies the session sent that
// netgrade could not vary, quoted and joined; "" when every field varied.
func (s *session) unvaried() string {
	fields := s.gen.Unvaried()
	if s.rgen != nil {
		for _, f := range s.rgen.Unvaried() {
			if !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
	}
	q := make([]string, len(fields))
	for i, f := range fields {
		q[i] = strconv.Quote(f)
	}
	return strings.Join(q, ", ")
}

// recognise reads an answer's body: JSON, a Python repr read as the JSON
// it should have been, an HTML page...
func recognise(ex *restExchange) apispec.Recognised {
	return apispec.Recognise(ex.RespHeader.Get("Content-Type"), ex.RespBody)
}

// object reads an answer as a JSON object; a Python repr is read too (the
// json check alone judges that).
func object(ex *restExchange) (map[string]any, apispec.Recognised, bool) {
	rec := recognise(ex)
	obj, ok := rec.Value.(map[string]any)
	return obj, rec, ok && rec.Decodable()
}

// idText writes an id as a path does: 3 (not 3.0), or the string itself.
func idText(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// sameID compares ids loosely: 1 and "1" are the same item (the id's type
// is the schema check's business).
func sameID(a, b any) bool { return idText(a) == idText(b) }

// differences lists the fields of want that got lacks or holds with
// another value, leaving out skip (the id, compared loosely elsewhere).
func differences(want, got map[string]any, skip string) []string {
	var out []string
	for _, k := range sortedKeys(want) {
		if k == skip {
			continue
		}
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%q is missing (wanted %s)", k, apispec.Compact(want[k])))
		case !reflect.DeepEqual(g, want[k]):
			out = append(out, fmt.Sprintf("%q is %s, not %s", k, apispec.Compact(g), apispec.Compact(want[k])))
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// statusText writes an answer's status, "201 Created", or what came in
// its place.
func statusText(ex *restExchange) string {
	if ex.Status == 0 {
		if ex.Err != nil {
			return "no answer (" + ex.Err.Error() + ")"
		}
		return "no answer"
	}
	return fmt.Sprintf("%d %s", ex.Status, nethttp.StatusText(ex.Status))
}

// request writes a request for a message: `POST /api/todos {"title":"x"}`.
func request(ex *restExchange) string {
	s := ex.Method + " " + ex.Path
	if len(ex.Body) > 0 {
		s += " " + oneLine(ex.Body, 120)
	}
	return s
}

// answer is what a failure shows as "actual": the exchange as `curl -v`
// shows it, or its status, Content-Type and body.
func answer(ex *restExchange) string {
	if ex == nil {
		return ""
	}
	if ex.wire != nil {
		return probe.Curl(ex.wire)
	}
	s := statusText(ex)
	if ex.Status != 0 {
		if ct := ex.RespHeader.Get("Content-Type"); ct != "" {
			s += " (" + ct + ")"
		}
		if len(ex.RespBody) > 0 {
			s += " " + oneLine(ex.RespBody, 200)
		}
	}
	return s
}

// oneLine returns the start of a body on one line, at most max characters.
func oneLine(b []byte, max int) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// serverError reports whether an exchange got no answer or a 5xx: what
// content-type, json and schema leave to the check the request is about.
func serverError(ex *restExchange) bool { return ex.Status == 0 || ex.Status >= 500 }

// outcome words an answer for a list of wrong ones: its status, or the
// crash a server error stands for.
func outcome(ex *restExchange) string {
	if serverError(ex) {
		return crashed(ex)
	}
	return statusText(ex)
}

// crashed words an answer that is a server error.
func crashed(ex *restExchange) string {
	raised := ""
	if ex.Traceback != "" {
		raised = "; serving it, the program raised " + ex.Traceback
	}
	if ex.Status == 0 {
		if raised != "" {
			return "no answer: the connection was closed or timed out without a response" + raised
		}
		return "no answer: the connection was closed or timed out without a response (the handler probably raised an exception: see the traceback the program printed)"
	}
	if rec := recognise(ex); rec.Kind == apispec.HTML || rec.Kind == apispec.Traceback || rec.Exception != "" {
		return fmt.Sprintf("%s, with %s%s", statusText(ex), rec.Name, raised)
	}
	if raised != "" {
		return statusText(ex) + raised
	}
	return statusText(ex) + ": an exception in the server"
}

// mediaType returns an answer's media type, lower case, without parameters.
func mediaType(ex *restExchange) string {
	v := ex.RespHeader.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt, _, _ = strings.Cut(v, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// capped joins the first n items and says how many more there are.
func capped(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:n], "; ") + fmt.Sprintf("; and %d more", len(items)-n)
}
