package http

import (
	"context"
	"fmt"
	nethttp "net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/apispec"
)

// wantStatus fails unless the answer's status is one the expectation
// accepts: a documented one, or one taken in its place (with a note that
// says which the document gives); when the document is silent, HTTP's
// usual status is expected, and the note says so.
func (s *session) wantStatus(ex *restExchange, e apispec.Expectation, what string) error {
	if slices.Contains(e.Accepted, ex.Status) {
		switch {
		case !e.FromDocument:
			s.note("%s answered %s; the document gives this request no such status, so HTTP's usual %s is expected (%s accepted)", request(ex), statusText(ex), status(e.Documented[0]), statuses(e))
		case !slices.Contains(e.Documented, ex.Status):
			s.note("%s answered %s; the document gives %s, and %s is accepted in its place", request(ex), statusText(ex), status(e.Documented[0]), statusText(ex))
		}
		return nil
	}
	f := graders.Failf("%s → %s: %s %s", request(ex), statusText(ex), what, statuses(e))
	if serverError(ex) {
		f = graders.Failf("%s → %s", request(ex), crashed(ex))
	}
	return f.Want(statuses(e), answer(ex))
}

// judgeCreate: two POSTs (every field; the required ones only) answer 201
// and the item: the fields sent, the defaults of the others, an id; a
// Location, when sent, leads to it.
func judgeCreate(ctx context.Context, s *session) error {
	coll := s.api.Collection
	for _, body := range []apispec.Body{s.gen.Full(), s.gen.Minimal()} {
		ex := s.send(ctx, nethttp.MethodPost, coll.Path, body.Raw)
		if err := s.wantStatus(ex, s.api.Success(nethttp.MethodPost, coll.Path, nethttp.StatusCreated), "a POST that creates an item answers"); err != nil {
			return err
		}
		want := apispec.Expected(coll.Create, body.Value)
		expected := fmt.Sprintf("the created item: %s and its new %q", apispec.Compact(want), coll.IDField)
		obj, rec, ok := object(ex)
		if !ok {
			return graders.Failf("%s → %s: the answer must be the created item, a JSON object; it is %s", request(ex), statusText(ex), rec.Name).Want(expected, answer(ex))
		}
		if obj[coll.IDField] == nil {
			return graders.Failf("%s → %s: the created item has no %q, so the client cannot know which item it created", request(ex), statusText(ex), coll.IDField).Want(expected, answer(ex))
		}
		if diff := differences(want, obj, coll.IDField); len(diff) > 0 {
			return graders.Failf("%s → %s: the created item does not hold what was sent (%s): %s", request(ex), statusText(ex), body.What, strings.Join(diff, "; ")).Want(expected, answer(ex))
		}
		if err := s.followLocation(ctx, ex, obj[coll.IDField]); err != nil {
			return err
		}
	}
	return nil
}

// followLocation checks that a Location header, when sent, leads to the
// created item (a GET answers 200; its id, when it shows one, is the same).
func (s *session) followLocation(ctx context.Context, ex *restExchange, id any) error {
	loc := ex.RespHeader.Get("Location")
	if loc == "" {
		return nil
	}
	idField := s.api.Collection.IDField
	u, err := url.Parse(loc)
	if err != nil || u.Path == "" {
		return graders.Failf("%s → Location: %q, which is not a path or a URL", request(ex), loc).
			Want("Location: "+s.api.ItemURL(idText(id)), answer(ex))
	}
	got := s.send(ctx, nethttp.MethodGet, u.Path, nil)
	gobj, _, ok := object(got)
	if got.Status != nethttp.StatusOK || (ok && gobj[idField] != nil && !sameID(gobj[idField], id)) {
		return graders.Failf("%s → Location: %s, but GET %s → %s: the Location header must lead to the created item", request(ex), loc, u.Path, statusText(got)).
			Want(fmt.Sprintf("GET %s → 200 OK and item %s", u.Path, idText(id)), answer(got))
	}
	return nil
}

// judgeRead: GET of a created item answers 200 and the item as created.
func judgeRead(ctx context.Context, s *session) error {
	it, err := s.setup(ctx, s.gen.Full())
	if err != nil {
		return err
	}
	ex := s.send(ctx, nethttp.MethodGet, s.api.ItemURL(it.id), nil)
	if err := s.wantStatus(ex, apispec.Expectation{Documented: []int{nethttp.StatusOK}, Accepted: []int{nethttp.StatusOK}, FromDocument: true}, "GET of an item that was just created answers"); err != nil {
		return err
	}
	idField := s.api.Collection.IDField
	expected := "the item as created: " + apispec.Compact(it.want)
	obj, rec, ok := object(ex)
	switch {
	case !ok:
		return graders.Failf("%s → %s: the answer must be the item, a JSON object; it is %s", request(ex), statusText(ex), rec.Name).Want(expected, answer(ex))
	case obj[idField] == nil:
		return graders.Failf("%s → %s: the item has no %q", request(ex), statusText(ex), idField).Want(expected, answer(ex))
	case !sameID(obj[idField], it.want[idField]):
		return graders.Failf("%s → %s: this is item %s, not item %s", request(ex), statusText(ex), idText(obj[idField]), it.id).Want(expected, answer(ex))
	}
	if diff := differences(it.want, obj, idField); len(diff) > 0 {
		return graders.Failf("%s → %s: the item is not as it was created: %s", request(ex), statusText(ex), strings.Join(diff, "; ")).Want(expected, answer(ex))
	}
	return nil
}

// judgeList: after two POSTs, the list is a JSON array holding both.
func judgeList(ctx context.Context, s *session) error {
	var items []item
	for _, body := range []apispec.Body{s.gen.Full(), s.gen.Minimal()} {
		it, err := s.setup(ctx, body)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	coll := s.api.Collection
	ex := s.send(ctx, nethttp.MethodGet, coll.Path, nil)
	if err := s.wantStatus(ex, apispec.Expectation{Documented: []int{nethttp.StatusOK}, Accepted: []int{nethttp.StatusOK}, FromDocument: true}, "GET of the collection answers"); err != nil {
		return err
	}
	var wants []string
	for _, it := range items {
		wants = append(wants, apispec.Compact(it.want))
	}
	expected := "a JSON array holding " + strings.Join(wants, " and ")
	rec := recognise(ex)
	list, ok := rec.Value.([]any)
	if !rec.Decodable() || !ok {
		what := rec.Name
		if rec.Decodable() {
			what = apispec.Describe(rec.Value)
		}
		return graders.Failf("%s → %s: the list must be a JSON array of the items (the body itself, not an object around it); it is %s", request(ex), statusText(ex), what).Want(expected, answer(ex))
	}
	for _, it := range items {
		found := false
		for _, el := range list {
			obj, ok := el.(map[string]any)
			if !ok || !sameID(obj[coll.IDField], it.id) {
				continue
			}
			found = true
			if diff := differences(it.want, obj, coll.IDField); len(diff) > 0 {
				return graders.Failf("%s → %s: in the list, item %s is not as it was created: %s", request(ex), statusText(ex), it.id, strings.Join(diff, "; ")).Want(expected, answer(ex))
			}
		}
		if !found {
			return graders.Failf("%s → %s: the list has no item %s, created by %s", request(ex), statusText(ex), it.id, request(it.ex)).Want(expected, answer(ex))
		}
	}
	return nil
}

// judgeReplace: a PUT of new values answers 200 and the item (204
// accepted), keeps the id, and a GET shows the new values; twice.
func judgeReplace(ctx context.Context, s *session) error {
	if s.rgen == nil {
		return graders.NotJudgedf("the document has no PUT on %s", s.api.Collection.ItemPath)
	}
	it, err := s.setup(ctx, s.gen.Full())
	if err != nil {
		return err
	}
	coll := s.api.Collection
	path := s.api.ItemURL(it.id)
	body := s.rgen.Full()
	want := apispec.Expected(coll.Replace, body.Value)
	expected := fmt.Sprintf("item %s replaced: %s, the same %q", it.id, apispec.Compact(want), coll.IDField)
	for round := 1; round <= 2; round++ {
		again := ""
		if round == 2 {
			again = " (the same PUT a second time)"
		}
		ex := s.send(ctx, nethttp.MethodPut, path, body.Raw)
		if err := s.wantStatus(ex, s.api.Success(nethttp.MethodPut, coll.ItemPath, nethttp.StatusOK), "a PUT that replaces an item"+again+" answers"); err != nil {
			return err
		}
		if ex.Status == nethttp.StatusOK || ex.Status == nethttp.StatusCreated {
			obj, rec, ok := object(ex)
			if !ok {
				return graders.Failf("%s → %s%s: a %d answer to PUT carries the replaced item, a JSON object; it is %s (answer 204 No Content for no body)", request(ex), statusText(ex), again, ex.Status, rec.Name).Want(expected, answer(ex))
			}
			if id, ok := obj[coll.IDField]; ok && !sameID(id, it.id) {
				return graders.Failf("%s → %s%s: the answer is item %s, not item %s: PUT replaces the item, it does not add another", request(ex), statusText(ex), again, idText(id), it.id).Want(expected, answer(ex))
			}
			if diff := differences(want, obj, coll.IDField); len(diff) > 0 {
				return graders.Failf("%s → %s%s: the answer does not hold the new values: %s", request(ex), statusText(ex), again, strings.Join(diff, "; ")).Want(expected, answer(ex))
			}
		}
		get := s.send(ctx, nethttp.MethodGet, path, nil)
		obj, _, ok := object(get)
		if get.Status != nethttp.StatusOK || !ok {
			return graders.Failf("after %s%s, GET %s → %s: the replaced item must be there", request(ex), again, path, statusText(get)).Want(expected, answer(get))
		}
		if id, ok := obj[coll.IDField]; ok && !sameID(id, it.id) {
			return graders.Failf("after %s%s, GET %s answers item %s", request(ex), again, path, idText(id)).Want(expected, answer(get))
		}
		if diff := differences(want, obj, coll.IDField); len(diff) > 0 {
			return graders.Failf("after %s%s, GET %s does not show the new values: %s", request(ex), again, path, strings.Join(diff, "; ")).Want(expected, answer(get))
		}
	}
	return nil
}

// judgeDelete: a DELETE answers 204 (200 accepted), then the item is gone
// from GET and from the list (what GET answers instead is not-found's).
func judgeDelete(ctx context.Context, s *session) error {
	if s.api.Operation(nethttp.MethodDelete, s.api.Collection.ItemPath) == nil {
		return graders.NotJudgedf("the document has no DELETE on %s", s.api.Collection.ItemPath)
	}
	it, err := s.setup(ctx, s.gen.Full())
	if err != nil {
		return err
	}
	path := s.api.ItemURL(it.id)
	ex := s.send(ctx, nethttp.MethodDelete, path, nil)
	if err := s.wantStatus(ex, s.api.Success(nethttp.MethodDelete, s.api.Collection.ItemPath, nethttp.StatusNoContent), "a DELETE of an existing item answers"); err != nil {
		return err
	}
	get := s.send(ctx, nethttp.MethodGet, path, nil)
	if get.Status >= 200 && get.Status <= 299 {
		return graders.Failf("after %s → %s, GET %s → %s: the item is still there", request(ex), statusText(ex), path, statusText(get)).
			Want(fmt.Sprintf("GET %s → %s", path, status(nethttp.StatusNotFound)), answer(get))
	}
	list := s.send(ctx, nethttp.MethodGet, s.api.Collection.Path, nil)
	if arr, ok := recognise(list).Value.([]any); ok && list.Status == nethttp.StatusOK {
		for _, el := range arr {
			if obj, ok := el.(map[string]any); ok && sameID(obj[s.api.Collection.IDField], it.id) {
				return graders.Failf("after %s → %s, the list still holds item %s", request(ex), statusText(ex), it.id).
					Want("a list without item "+it.id, answer(list))
			}
		}
	}
	return nil
}

// judgeNotFound: GET, PUT and DELETE of an id never created answer 404.
func judgeNotFound(ctx context.Context, s *session) error {
	s.create(ctx, s.gen.Full())
	path := s.api.ItemURL(s.unknownID())
	var wrong []string
	var first *restExchange
	silent := []string{}
	for _, m := range []string{nethttp.MethodGet, nethttp.MethodPut, nethttp.MethodDelete} {
		if s.api.Operation(m, s.api.Collection.ItemPath) == nil {
			continue
		}
		var body []byte
		if m == nethttp.MethodPut {
			body = s.putBody().Raw
		}
		e := s.api.Expect(m, s.api.Collection.ItemPath, func(st int) bool { return st == nethttp.StatusNotFound }, nethttp.StatusNotFound)
		if !e.FromDocument {
			silent = append(silent, m)
		}
		if ex := s.send(ctx, m, path, body); ex.Status != nethttp.StatusNotFound {
			if first == nil {
				first = ex
			}
			wrong = append(wrong, fmt.Sprintf("%s %s → %s", m, path, outcome(ex)))
		}
	}
	if len(silent) > 0 {
		s.note("the document gives %s %s no 404 response: HTTP's usual 404 Not Found is expected for an unknown id", strings.Join(silent, ", "), s.api.Collection.ItemPath)
	}
	if len(wrong) > 0 {
		return graders.Failf("there is no item %s, yet %s", s.unknownID(), strings.Join(wrong, "; ")).
			Want("404 Not Found", answer(first))
	}
	return nil
}

// judgeMethodNotAllowed: the methods the API uses on one of its paths but
// not on the other answer 405 there.
func judgeMethodNotAllowed(ctx context.Context, s *session) error {
	id := s.create(ctx, s.gen.Full()).id
	if id == "" {
		id = "1"
	}
	var wrong []string
	var first *restExchange
	for _, na := range s.api.NotAllowed() {
		path := strings.Replace(na.Path, "{"+s.api.Collection.IDParam+"}", url.PathEscape(id), 1)
		var body []byte
		if na.Method == nethttp.MethodPost || na.Method == nethttp.MethodPut {
			body = s.gen.Full().Raw
		}
		if ex := s.send(ctx, na.Method, path, body); ex.Status != nethttp.StatusMethodNotAllowed {
			if first == nil {
				first = ex
			}
			wrong = append(wrong, fmt.Sprintf("%s %s → %s", na.Method, path, outcome(ex)))
		}
	}
	if len(wrong) > 0 {
		return graders.Failf("a method the path does not have must get 405 Method Not Allowed, yet %s", strings.Join(wrong, "; ")).
			Want("405 Method Not Allowed", answer(first))
	}
	return nil
}

// judgeValidation: every invalid body the document implies, to POST and
// to PUT of an existing item, answers 400 (422 accepted).
func judgeValidation(ctx context.Context, s *session) error {
	coll := s.api.Collection
	type send struct {
		method, path string
		body         apispec.Body
	}
	var sends []send
	for _, b := range s.gen.Invalid() {
		sends = append(sends, send{nethttp.MethodPost, coll.Path, b})
	}
	if s.rgen != nil {
		if it := s.create(ctx, s.gen.Full()); it.id != "" {
			for _, b := range s.rgen.Invalid() {
				sends = append(sends, send{nethttp.MethodPut, s.api.ItemURL(it.id), b})
			}
		} else {
			s.note("no item could be created, so the invalid bodies were not sent to PUT")
		}
	}
	rejected := s.api.Rejection(nethttp.MethodPost, coll.Path)
	var wrong []string
	var first *restExchange
	crashes, coerced, judged := 0, 0, 0
	unvaried := s.unvaried()
	for _, b := range sends {
		ex := s.send(ctx, b.method, b.path, b.body.Raw)
		if unvaried != "" && conflict(ex) {
			// Refused as a duplicate of an item already there: it says
			// nothing of whether the fault was seen.
			s.note("%s %s with %s → %s, a refusal of a duplicate (netgrade could not vary %s): not counted", b.method, b.path, b.body.What, statusText(ex), unvaried)
			continue
		}
		judged++
		if slices.Contains(rejected.Accepted, ex.Status) {
			continue
		}
		if b.body.Kind == apispec.WrongType && ex.Status >= 200 && ex.Status < 300 && coercible(b.body) {
			if s.lax {
				s.note("%s %s with %s → %s: the framework coerced the value, which the course accepts (coercion: lax)", b.method, b.path, b.body.What, statusText(ex))
				continue
			}
			coerced++
		}
		if first == nil {
			first = ex
		}
		if serverError(ex) {
			crashes++
		}
		wrong = append(wrong, fmt.Sprintf("%s %s with %s (%s) → %s", b.method, b.path, b.body.What, oneLine(b.body.Raw, 80), outcome(ex)))
	}
	if !rejected.FromDocument {
		s.note("the document gives POST %s no 400 or 422 response: HTTP's usual %s is expected for an invalid body", coll.Path, statuses(rejected))
	}
	if len(wrong) == 0 {
		if judged == 0 {
			return graders.NotJudgedf("every invalid body was refused as a duplicate (netgrade could not vary %s): validation could not be judged", unvaried)
		}
		return nil
	}
	f := graders.Failf("%d of %d invalid bodies were not rejected with %s: %s", len(wrong), judged, status(rejected.Documented[0]), capped(wrong, 5)).
		Want(statuses(rejected)+" for each", answer(first))
	switch {
	case crashes > 0:
		f.WithHint("A body that is not what you expect must not raise an exception: catch json.JSONDecodeError (Flask: request.get_json(silent=True)), check isinstance(data, dict), the required fields and their types, and answer %d with a JSON error.", rejected.Documented[0])
	case coerced == len(wrong):
		f.WithHint("The framework turned a value of the wrong JSON type into the field's type (pydantic v1, FastAPI's default here, takes \"yes\" as true and 12345 as \"12345\"): declare the fields StrictBool, StrictStr, StrictInt (from pydantic import StrictBool) so that it answers 422. A course may accept this coercion (texts: coercion: lax).")
	}
	return f
}

// coercible reports whether a body of the wrong type holds a value a
// framework commonly coerces into the field's type: "yes" for a boolean,
// a number for a string.
func coercible(b apispec.Body) bool {
	switch v := b.Value[b.Field].(type) {
	case string:
		return v == "yes"
	case float64, int:
		return true
	}
	return false
}

// tour sends one request of each kind the API has, for the checks that
// judge every answer: content-type, json and schema.
func (s *session) tour(ctx context.Context) []*restExchange {
	coll := s.api.Collection
	var out []*restExchange
	add := func(ex *restExchange) { out = append(out, ex) }
	add(s.send(ctx, nethttp.MethodGet, coll.Path, nil))
	it := s.create(ctx, s.gen.Full())
	add(it.ex)
	if it.id != "" {
		add(s.send(ctx, nethttp.MethodGet, s.api.ItemURL(it.id), nil))
		if s.rgen != nil {
			add(s.send(ctx, nethttp.MethodPut, s.api.ItemURL(it.id), s.rgen.Full().Raw))
		}
	}
	add(s.send(ctx, nethttp.MethodGet, coll.Path, nil))
	add(s.send(ctx, nethttp.MethodGet, s.api.ItemURL(s.unknownID()), nil))
	for _, b := range s.gen.Invalid() {
		if b.Kind == apispec.MissingField {
			add(s.send(ctx, nethttp.MethodPost, coll.Path, b.Raw))
			break
		}
	}
	for _, na := range s.api.NotAllowed() {
		if na.Path == coll.Path {
			add(s.send(ctx, na.Method, na.Path, nil))
			break
		}
	}
	if it.id != "" && s.api.Operation(nethttp.MethodDelete, coll.ItemPath) != nil {
		add(s.send(ctx, nethttp.MethodDelete, s.api.ItemURL(it.id), nil))
	}
	return out
}

// isJSONType reports whether a media type is JSON's.
func isJSONType(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

// judgeContentType: every answer with a body says application/json.
func judgeContentType(ctx context.Context, s *session) error {
	var g grouped
	advice := ""
	for _, ex := range s.tour(ctx) {
		if serverError(ex) || len(strings.TrimSpace(string(ex.RespBody))) == 0 || isJSONType(mediaType(ex)) {
			continue
		}
		ct := "no Content-Type"
		if v := ex.RespHeader.Get("Content-Type"); v != "" {
			ct = "Content-Type: " + v
		}
		if rec := recognise(ex); rec.Kind == apispec.HTML {
			ct += " (" + rec.Name + ")"
			if advice == "" {
				advice = rec.Advice
			}
		}
		g.add(ct, ex)
	}
	if g.empty() {
		return nil
	}
	f := graders.Failf("answers that are not application/json: %s", g).
		Want("Content-Type: application/json on every answer with a body", answer(g.first))
	if advice != "" {
		f.WithHint("%s", advice)
	}
	return f
}

// judgeJSON: every body is JSON; an error (4xx) has one.
func judgeJSON(ctx context.Context, s *session) error {
	var g grouped
	advice := ""
	for _, ex := range s.tour(ctx) {
		if serverError(ex) {
			continue
		}
		rec := recognise(ex)
		switch {
		case rec.Kind == apispec.JSON:
			continue
		case rec.Kind == apispec.Empty && ex.Status < 400:
			continue // a 204, or a success without a body: the status checks' business
		case rec.Kind == apispec.HTML && mediaType(ex) == "text/html":
			continue // an HTML page that says so: content-type's business
		case rec.Kind == apispec.Empty:
			g.add("no body, where an error carries a JSON object such as {\"error\": \"...\"}", ex)
		default:
			g.add(rec.Name, ex)
		}
		if advice == "" {
			advice = rec.Advice
		}
	}
	if g.empty() {
		return nil
	}
	f := graders.Failf("bodies that are not JSON: %s", g).Want("a JSON body, as json.dumps writes it", answer(g.first))
	if advice != "" {
		f.WithHint("%s", advice)
	}
	return f
}

// grouped gathers the exchanges a check found wrong under what is wrong
// with them, in the order found, and keeps the first for "actual".
type grouped struct {
	whats []string
	by    map[string][]string
	first *restExchange
}

func (g *grouped) add(what string, ex *restExchange) {
	if g.by == nil {
		g.by = map[string][]string{}
	}
	if _, ok := g.by[what]; !ok {
		g.whats = append(g.whats, what)
	}
	g.by[what] = append(g.by[what], fmt.Sprintf("%s %s → %s", ex.Method, ex.Path, statusText(ex)))
	if g.first == nil {
		g.first = ex
	}
}

func (g *grouped) empty() bool { return g.first == nil }

// String writes "WHAT: REQ → STATUS, REQ → STATUS; WHAT: ...".
func (g grouped) String() string {
	parts := make([]string, len(g.whats))
	for i, w := range g.whats {
		parts[i] = w + ": " + strings.Join(g.by[w], ", ")
	}
	return strings.Join(parts, "; ")
}

// indexInPath matches the index of a list element in a jq path: ".[3]".
var indexInPath = regexp.MustCompile(`\[\d+\]`)

// judgeSchema: every body that can be read has the types the document
// gives its status (missing fields are the echo checks'). Each way a field
// is wrong is told once, with how many answers showed it, and the hint
// follows what was wrong.
func judgeSchema(ctx context.Context, s *session) error {
	type fault struct {
		p     apispec.Problem
		count int
		where []string
		first *restExchange
	}
	var order []string
	faults := map[string]*fault{}
	for _, n := range s.api.Notes {
		s.note("%s", n)
	}
	for _, ex := range s.tour(ctx) {
		if serverError(ex) {
			continue
		}
		rec := recognise(ex)
		if !rec.Decodable() {
			continue
		}
		u, err := url.Parse(ex.Path)
		if err != nil {
			return fmt.Errorf("netgrade sent a path it cannot parse: %w", err)
		}
		ps, err := s.api.ValidateValue(ctx, ex.Method, u.Path, ex.Status, rec.Value, apispec.Ignore{Missing: true})
		if err != nil {
			return err
		}
		for _, p := range ps {
			p.Path = indexInPath.ReplaceAllString(p.Path, "[]")
			key := p.Path + "\x00" + p.Keyword + "\x00" + p.Wanted
			f := faults[key]
			if f == nil {
				f = &fault{p: p, first: ex}
				faults[key] = f
				order = append(order, key)
			}
			f.count++
			if w := fmt.Sprintf("%s → %s", request(ex), statusText(ex)); !slices.Contains(f.where, w) {
				f.where = append(f.where, w)
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	var lines []string
	for _, k := range order {
		f := faults[k]
		times := "once"
		if f.count > 1 {
			times = fmt.Sprintf("%d times", f.count)
		}
		lines = append(lines, fmt.Sprintf("%s (%s: %s)", f.p, times, capped(f.where, 2)))
	}
	top := faults[order[0]]
	fl := graders.Failf("answers that do not match %s: %s", s.api.Name, capped(lines, 5)).
		Want("the types the document gives", answer(top.first))
	fl.WithHint("%s", schemaHint(top.p, s.api.Collection.IDField))
	return fl
}

// schemaHint is the advice for the first way an answer did not match its
// schema, in its own terms.
func schemaHint(p apispec.Problem, idField string) string {
	field := strings.TrimPrefix(p.Path, ".")
	if i := strings.LastIndex(field, "."); i >= 0 {
		field = field[i+1:]
	}
	switch p.Keyword {
	case "format", "pattern":
		return fmt.Sprintf("Write %s as the document gives it: %s.", field, p.Wanted)
	case "type":
		if field == idField && strings.Contains(p.Wanted, "integer") {
			return fmt.Sprintf("Keep the %s an int: int() it once, when it comes from the path, and store the int; json.dumps writes it as a number.", idField)
		}
		return fmt.Sprintf("Keep %s in the type the document gives it (%s) and let json.dumps write it: it writes True as true and an int as a number.", field, p.Wanted)
	case "enum":
		return fmt.Sprintf("%s takes only the values the document lists: %s.", field, p.Wanted)
	case "additionalProperties":
		return "Answer only the fields the document gives the item: build the answer from them, not from everything the client sent."
	}
	return "Answer what the document describes for this request: its fields, with the types and forms it gives them."
}

// judgeEncoding: non-ASCII strings come back intact, in the POST's answer
// and from a GET.
func judgeEncoding(ctx context.Context, s *session) error {
	body := s.gen.NonASCII()
	it := s.create(ctx, body)
	if serverError(it.ex) {
		return graders.Failf("%s → %s: a body with non-ASCII text must be handled like any other", request(it.ex), crashed(it.ex)).
			Want("the item created, its text intact", answer(it.ex))
	}
	seen := []*restExchange{it.ex}
	if it.id != "" {
		if get := s.send(ctx, nethttp.MethodGet, s.api.ItemURL(it.id), nil); get.Status == nethttp.StatusOK {
			seen = append(seen, get)
		}
	}
	judged := false
	for _, got := range seen {
		obj, _, ok := object(got)
		if !ok {
			continue
		}
		for _, k := range sortedKeys(body.Value) {
			sent, isText := body.Value[k].(string)
			g, present := obj[k]
			if !isText || !present {
				continue
			}
			judged = true
			if g == sent {
				continue
			}
			if gs, ok := g.(string); ok && gs == latin1(sent) {
				return graders.Failf("%s: %q came back as %q: its UTF-8 bytes were decoded as Latin-1", request(got), sent, gs).
					Want(apispec.Compact(sent), answer(got))
			}
			return graders.Failf("%s → %s: %q came back as %s", request(got), statusText(got), sent, apispec.Compact(g)).
				Want(apispec.Compact(sent), answer(got))
		}
	}
	if !judged {
		return graders.Skipf("no item with non-ASCII text could be created and read back: see %s and %s", restID("create"), restID("read"))
	}
	return nil
}

// latin1 returns s's UTF-8 bytes read as Latin-1: the mojibake of a body
// decoded with the wrong codec.
func latin1(s string) string {
	r := make([]rune, 0, len(s))
	for _, b := range []byte(s) {
		r = append(r, rune(b))
	}
	return string(r)
}

// concurrentClients is how many clients create at once.
const concurrentClients = 10

// judgeConcurrentCreates: ten clients create at once, each on a
// connection of its own opened when all are released together (not
// before: a server that serves one connection at a time would wait on the
// first while the others, past its listen backlog, could not connect); all
// get 2xx and distinct ids, and each item is there afterwards.
func judgeConcurrentCreates(ctx context.Context, s *session) error {
	coll := s.api.Collection
	bodies := make([]apispec.Body, concurrentClients)
	for i := range bodies {
		bodies[i] = s.gen.Full()
	}
	exs := make([]*restExchange, len(bodies))
	header := nethttp.Header{"Content-Type": {"application/json"}, "Connection": {"close"}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range bodies {
		c := s.c.Fresh()
		wg.Go(func() {
			defer c.Close()
			<-start
			exs[i] = c.Do(ctx, nethttp.MethodPost, coll.Path, header.Clone(), bodies[i].Raw)
		})
	}
	close(start)
	wg.Wait()
	ids := map[string][]int{}
	unvaried := s.unvaried()
	if unvaried != "" {
		s.note("netgrade could not give each of the %d bodies its own value of %s (the schema leaves no room for one): a refusal of a duplicate is not counted against the API", concurrentClients, unvaried)
	}
	refused := map[int]bool{}
	for i, ex := range exs {
		if unvaried != "" && conflict(ex) {
			// The bodies could not all differ: a refused duplicate is the
			// API's right, not a lost create.
			s.note("client %d: %s → %s, a refusal of a duplicate (netgrade could not vary %s): not counted", i+1, request(ex), statusText(ex), unvaried)
			refused[i] = true
			continue
		}
		if ex.Status < 200 || ex.Status > 299 {
			return graders.Failf("%d clients created at once; client %d: %s → %s", concurrentClients, i+1, request(ex), outcome(ex)).
				Want(statuses(s.api.Success(nethttp.MethodPost, coll.Path, nethttp.StatusCreated))+" for every client", answer(ex))
		}
		if obj, _, ok := object(ex); ok && obj[coll.IDField] != nil {
			id := idText(obj[coll.IDField])
			ids[id] = append(ids[id], i+1)
		}
	}
	if concurrentClients-len(refused) < 2 {
		return graders.NotJudgedf("%d of %d clients were refused as duplicates (netgrade could not vary %s): whether clients that create at once get distinct ids could not be judged", len(refused), concurrentClients, unvaried)
	}
	for _, id := range sortedIDs(ids) {
		if who := ids[id]; len(who) > 1 {
			return graders.Failf("%d clients created at once, and clients %s all got %s %s: handlers ran at the same time and read the counter before any wrote it back", concurrentClients, joinInts(who), coll.IDField, id).
				Want(fmt.Sprintf("%d distinct ids", concurrentClients), describeIDs(exs, coll.IDField))
		}
	}
	for i, ex := range exs {
		if refused[i] {
			continue
		}
		obj, _, ok := object(ex)
		if !ok || obj[coll.IDField] == nil {
			if s.idFromList(ctx, apispec.Expected(coll.Create, bodies[i].Value)) == "" {
				return graders.Failf("%d clients created at once; client %d's item %s is not in the list afterwards", concurrentClients, i+1, apispec.Compact(bodies[i].Value)).
					Want("every item in the list", answer(ex))
			}
			continue
		}
		id := idText(obj[coll.IDField])
		get := s.send(ctx, nethttp.MethodGet, s.api.ItemURL(id), nil)
		gobj, _, gok := object(get)
		if get.Status != nethttp.StatusOK || !gok || len(differences(bodies[i].Value, gobj, coll.IDField)) > 0 {
			return graders.Failf("%d clients created at once; client %d's item %s is not there afterwards: GET %s → %s", concurrentClients, i+1, id, s.api.ItemURL(id), statusText(get)).
				Want(apispec.Compact(bodies[i].Value), answer(get))
		}
	}
	return nil
}

func sortedIDs(m map[string][]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func describeIDs(exs []*restExchange, field string) string {
	s := make([]string, len(exs))
	for i, ex := range exs {
		s[i] = "?"
		if obj, _, ok := object(ex); ok && obj[field] != nil {
			s[i] = idText(obj[field])
		}
	}
	return "ids " + strings.Join(s, ", ")
}

// judgePersists: an item created on one connection is there on the next,
// and after ten more connections.
func judgePersists(ctx context.Context, s *session) error {
	fresh := newSession(s.api, s.c.Fresh(), s.note)
	it, err := fresh.setup(ctx, s.gen.Full())
	if err != nil {
		return err
	}
	path := s.api.ItemURL(it.id)
	look := func(when string) error {
		get := fresh.send(ctx, nethttp.MethodGet, path, nil)
		obj, _, ok := object(get)
		if get.Status == nethttp.StatusOK && ok && len(differences(it.sent.Value, obj, s.api.Collection.IDField)) == 0 {
			return nil
		}
		return graders.Failf("%s created item %s on one connection; %s, on another connection, GET %s → %s: the item must live in the server, not in the connection's handler", request(it.ex), it.id, when, path, statusText(get)).
			Want("200 OK and the item "+apispec.Compact(it.want), answer(get))
	}
	if err := look("right after"); err != nil {
		return err
	}
	for range 10 {
		fresh.send(ctx, nethttp.MethodGet, s.api.Collection.Path, nil)
	}
	return look("ten connections later")
}

// otherSlash returns a collection path with a trailing slash added, or
// taken away when it has one.
func otherSlash(path string) string {
	if strings.HasSuffix(path, "/") && len(path) > 1 {
		return strings.TrimSuffix(path, "/")
	}
	return path + "/"
}

// judgeNoServerError: requests no other check sends (an id that is not a
// number, a path below an item, a query string, a trailing slash, a body
// sent as text/plain) get an answer below 500, and the server serves on.
func judgeNoServerError(ctx context.Context, s *session) error {
	coll := s.api.Collection
	id := s.create(ctx, s.gen.Full()).id
	if id == "" {
		id = "1"
	}
	type odd struct {
		method, path string
		header       nethttp.Header
		body         []byte
	}
	var odds []odd
	if coll.IDType == "integer" {
		for _, m := range []string{nethttp.MethodGet, nethttp.MethodPut, nethttp.MethodDelete} {
			if s.api.Operation(m, coll.ItemPath) == nil {
				continue
			}
			o := odd{method: m, path: s.api.ItemURL("abc")}
			if m == nethttp.MethodPut {
				o.header, o.body = jsonHeader.Clone(), s.putBody().Raw
			}
			odds = append(odds, o)
		}
	}
	odds = append(odds,
		odd{method: nethttp.MethodGet, path: s.api.ItemURL(id) + "/extra"},
		odd{method: nethttp.MethodGet, path: coll.Path + "?page=x"},
		odd{method: nethttp.MethodGet, path: otherSlash(coll.Path)},
		odd{method: nethttp.MethodPost, path: coll.Path, header: nethttp.Header{"Content-Type": {"text/plain"}}, body: s.gen.Full().Raw},
		odd{method: nethttp.MethodGet, path: coll.Path},
	)
	for _, o := range odds {
		if ex := s.c.Do(ctx, o.method, o.path, o.header, o.body); serverError(ex) {
			return graders.Failf("%s → %s", request(ex), crashed(ex)).
				Want("an answer below 500 (404, 400...), and the server still running", answer(ex))
		}
	}
	return nil
}
