// Package apispec reads the OpenAPI 3.0 document that describes the API of
// the rest-api exercise and derives from it what the checks and the
// reference server need: the collection and item paths, the id, the item
// and request-body schemas, the documented statuses and methods. It also
// generates request bodies from the schemas (the same ones every run),
// validates responses against the document in words a week-one student
// understands, and recognises what students send instead of JSON.
//
// The document is the course's: an instructor who wants /api/books with
// other fields writes another document, and netgrade grades against it.
// Loading and validation are kin-openapi's (openapi3, openapi3filter,
// routers); this package adds only the collection model and the wording.
package apispec

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// DefaultName is the name of the document of the default course.
const DefaultName = "todo-api.yaml"

//go:embed todo-api.yaml books-api.yaml tasks-api.yaml fastapi-books.json
var builtin embed.FS

// CollectionExtension marks the path of the graded collection when a
// document describes several: `x-netgrade-collection: true` on its path item.
const CollectionExtension = "x-netgrade-collection"

// API is a loaded, validated document and the collection model derived
// from it. It is read-only once loaded and safe for concurrent use.
type API struct {
	// Name is the document's name: a built-in name or the file's path.
	Name string
	// Title is the document's info.title.
	Title string
	// Doc is the loaded document.
	Doc *openapi3.T
	// Collection is the collection the exercise is about.
	Collection Collection
	// Operations are the document's operations, by path then method.
	Operations []Operation

	// Notes say what netgrade assumed where the document is silent (an
	// item schema of {}), in the document's terms.
	Notes []string

	router routers.Router
	source []byte
}

// Collection is what the checks need to know of the graded collection.
type Collection struct {
	// Path is the collection's path, e.g. "/api/todos".
	Path string
	// ItemPath is the path template of one item, e.g. "/api/todos/{id}".
	ItemPath string
	// IDParam is the path parameter naming the item, e.g. "id".
	IDParam string
	// IDField is the field of an item that holds its id: the property
	// named like IDParam, else "id".
	IDField string
	// IDType is the JSON type of the id: "integer" or "string".
	IDType string
	// Item is the schema of an item as GET on ItemPath returns it.
	Item *openapi3.Schema
	// Create is the schema of the body of POST on Path.
	Create *openapi3.Schema
	// Replace is the schema of the body of PUT on ItemPath; nil when the
	// document has no PUT there.
	Replace *openapi3.Schema
	// AnyItem is true when the document gives no item schema (FastAPI's
	// `{}` for a route without response_model): an item is then any JSON
	// object, judged by the fields the checks sent.
	AnyItem bool
}

// Operation is one documented method on one path.
type Operation struct {
	Method string
	// Path is the path template, e.g. "/api/todos/{id}".
	Path string
	// Statuses are the documented status codes, ascending.
	Statuses []int
	// Default is true when the operation documents a "default" response.
	Default bool
}

// Error is what is wrong with a document: its name, the line when known,
// and the problem.
type Error struct {
	Name string
	Line int
	// Pointer is the JSON pointer of the place, e.g.
	// "/paths/~1tasks~1{id}/get": what locates it in a document of one
	// line (FastAPI's /openapi.json), where a line says nothing.
	Pointer string
	Problem string
	Err     error
}

func (e *Error) Error() string {
	where := ""
	switch {
	case e.Pointer != "" && e.Line > 1:
		where = fmt.Sprintf(", at %s (line %d)", e.Pointer, e.Line)
	case e.Pointer != "":
		where = ", at " + e.Pointer
	case e.Line > 0:
		where = fmt.Sprintf(", line %d", e.Line)
	}
	return fmt.Sprintf("API document %s%s: %s", e.Name, where, e.Problem)
}

// pointer writes a JSON pointer from its segments (~ and / escaped).
func pointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Builtins returns the names of the documents netgrade carries.
func Builtins() []string {
	entries, _ := builtin.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Builtin loads one of the documents netgrade carries, by name.
func Builtin(name string) (*API, error) {
	data, err := builtin.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("no built-in API document %q (there are: %s): %w", name, strings.Join(Builtins(), ", "), err)
	}
	return Load(name, data)
}

// Default loads the document of the default course.
func Default() (*API, error) { return Builtin(DefaultName) }

// Open loads a document by name: a built-in one (see Builtins), else the
// file at that path.
func Open(name string) (*API, error) {
	if slices.Contains(Builtins(), name) {
		return Builtin(name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the API document: %w", err)
	}
	return Load(name, data)
}

// SpecEnv names the environment variable that hands a program the
// document it must serve (a setting's value, as FromSetting reads it): the
// rest-api checks set it for the program they start, so that netgrade's
// reference serves the course's document; a student's program ignores it.
const SpecEnv = "NETGRADE_REST_SPEC"

// InlineName is the name of a document given by its text rather than a
// file, in messages.
const InlineName = "the course's API document"

// FromSetting loads the document a course setting names: empty for the
// default course's, a built-in name, a file's path, or the document's text
// itself (a value of several lines), which is how a course carries its own
// document into a sandbox that cannot read the course's folder.
func FromSetting(value string) (*API, error) {
	switch {
	case strings.TrimSpace(value) == "":
		return Default()
	case strings.Contains(value, "\n"):
		return Load(InlineName, []byte(value))
	}
	return Open(value)
}

// lineInError finds "line N" in a parser's message.
var lineInError = regexp.MustCompile(`line (\d+)`)

// Load parses and validates a document and derives its collection model.
// Whatever is wrong is returned as an *Error naming it, with its line when
// it can be found; Load never panics on a bad document.
func Load(name string, data []byte) (api *API, err error) {
	defer func() {
		if r := recover(); r != nil {
			api, err = nil, &Error{Name: name, Problem: fmt.Sprintf("the document cannot be read (%v)", r)}
		}
	}()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Name: name, Problem: "the document is empty"}
	}
	loader := openapi3.NewLoader()
	loader.IncludeOrigin = true
	doc, err := loader.LoadFromData(data)
	if err != nil {
		e := &Error{Name: name, Problem: strings.TrimPrefix(err.Error(), "failed to unmarshal data: "), Err: err}
		switch {
		case strings.Contains(err.Error(), "into openapi3.T"):
			e.Problem = "it is not an OpenAPI document (a YAML mapping with openapi, info and paths): " + e.Problem
		case strings.Contains(err.Error(), "failed to resolve"):
			e.Problem = "a $ref points at nothing: " + e.Problem
		}
		if m := lineInError.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
		} else {
			e.Line = lineOfRef(data, err.Error())
		}
		return nil, e
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		return nil, &Error{Name: name, Line: lineOf(data, "openapi:"),
			Problem: fmt.Sprintf("netgrade reads OpenAPI 3.0 documents (openapi: 3.0.3); this one says openapi: %q", doc.OpenAPI)}
	}
	if err := doc.Validate(context.Background()); err != nil {
		e := &Error{Name: name, Line: originLine(err), Problem: err.Error(), Err: err}
		if oneLine(data) {
			e.Line = 0 // "line 1" of a one-line document says nothing; the problem names the path
		}
		return nil, e
	}
	api = &API{Name: name, Title: doc.Info.Title, Doc: doc, source: data}
	if api.router, err = gorillamux.NewRouter(doc); err != nil {
		return nil, &Error{Name: name, Problem: "its paths cannot be routed: " + err.Error(), Err: err}
	}
	api.Operations = operations(doc)
	if api.Collection, err = collection(doc); err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Name = name
			if oneLine(data) {
				de.Line = 0 // "line 1" of a one-line document says nothing
			}
			return nil, de
		}
		return nil, &Error{Name: name, Problem: err.Error(), Err: err}
	}
	if api.Collection.AnyItem {
		api.Notes = append(api.Notes, fmt.Sprintf("the document gives GET %s no item schema ({}): netgrade takes any JSON object as an item and judges the fields it sent (with FastAPI, response_model=… on the route documents the item)", api.Collection.ItemPath))
	}
	if err := api.checkGenerable(); err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Name = name
			if oneLine(data) {
				de.Line = 0
			}
			return nil, de
		}
		return nil, &Error{Name: name, Problem: err.Error(), Err: err}
	}
	return api, nil
}

// oneLine reports whether a document is written on one line (FastAPI's
// /openapi.json), where a line number locates nothing.
func oneLine(data []byte) bool {
	return bytes.Count(bytes.TrimSpace(data), []byte("\n")) == 0
}

// lineOf returns the 1-based line of the first occurrence of s in data, or
// 0 (also for an empty s).
func lineOf(data []byte, s string) int {
	if s == "" {
		return 0
	}
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// quotedRef finds a quoted "#/..." reference in a loader's message.
var quotedRef = regexp.MustCompile(`"(#/[^"]+)"`)

// lineOfRef returns the line of the $ref a loader's message names.
func lineOfRef(data []byte, msg string) int {
	if m := quotedRef.FindStringSubmatch(msg); m != nil {
		return lineOf(data, m[1])
	}
	return 0
}

// originPointer is the type of the Origin field kin-openapi's validation
// errors carry when a document is loaded with origins.
var originPointer = reflect.TypeFor[*openapi3.Origin]()

// originLine returns the line of the innermost element a validation error
// names: kin-openapi's errors carry an Origin field (on many types) when
// the document was loaded with IncludeOrigin.
func originLine(err error) int {
	line := 0
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			if f := v.FieldByName("Origin"); f.IsValid() && f.Type() == originPointer && !f.IsNil() {
				if o := f.Interface().(*openapi3.Origin); o.Key != nil && o.Key.Line > 0 {
					line = o.Key.Line
				}
			}
		}
	}
	return line
}

// operations lists the document's operations in a fixed order.
func operations(doc *openapi3.T) []Operation {
	var ops []Operation
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			o := Operation{Method: method, Path: path}
			if op.Responses != nil {
				for code := range op.Responses.Map() {
					if code == "default" {
						o.Default = true
					} else if n, err := strconv.Atoi(code); err == nil {
						o.Statuses = append(o.Statuses, n)
					}
				}
			}
			sort.Ints(o.Statuses)
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return methodRank(ops[i].Method) < methodRank(ops[j].Method)
	})
	return ops
}

// methodOrder is the order methods are listed in.
var methodOrder = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodTrace}

func methodRank(m string) int {
	if i := slices.Index(methodOrder, m); i >= 0 {
		return i
	}
	return len(methodOrder)
}

// itemParam matches an item path: a collection path followed by one
// segment that is a path parameter.
var itemParam = regexp.MustCompile(`^(/.*)/\{([^{}/]+)\}$`)

// collection finds the graded collection: a path without parameters that
// has GET and POST, with an item path below it (the same path followed by
// one parameter) that has GET.
func collection(doc *openapi3.T) (Collection, error) {
	paths := doc.Paths.Map()
	type pair struct{ coll, item, param string }
	var found []pair
	for item := range paths {
		m := itemParam.FindStringSubmatch(item)
		if m == nil || strings.Contains(m[1], "{") {
			continue
		}
		// The collection is written with or without a trailing slash:
		// FastAPI's APIRouter(prefix="/tasks") with @router.get("/")
		// documents it as /tasks/.
		for _, coll := range []string{m[1], m[1] + "/"} {
			if c, ok := paths[coll]; ok && c.Post != nil {
				found = append(found, pair{coll, item, m[2]})
				break
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].coll < found[j].coll })
	if len(found) > 1 {
		var marked []pair
		for _, p := range found {
			if v, ok := paths[p.coll].Extensions[CollectionExtension].(bool); ok && v {
				marked = append(marked, p)
			}
		}
		if len(marked) != 1 {
			var names []string
			for _, p := range found {
				names = append(names, p.coll)
			}
			return Collection{}, &Error{Problem: fmt.Sprintf("it describes several collections (%s): netgrade grades one; mark it with %s: true on its path", strings.Join(names, ", "), CollectionExtension)}
		}
		found = marked
	}
	if len(found) == 0 {
		return Collection{}, &Error{Pointer: "/paths", Problem: "it describes no collection: netgrade needs a path such as /tasks (or /tasks/) with get and post, and below it a path such as /tasks/{id} with get"}
	}
	p := found[0]
	coll, item := paths[p.coll], paths[p.item]
	c := Collection{Path: p.coll, ItemPath: p.item, IDParam: p.param, IDType: "string"}
	if coll.Get == nil {
		return c, &Error{Pointer: pointer("paths", p.coll), Line: originOf(coll.Post.Origin), Problem: fmt.Sprintf("the collection %s has no get: netgrade lists the items with it (FastAPI: @app.get(%q))", p.coll, p.coll)}
	}
	if item.Get == nil {
		return c, &Error{Pointer: pointer("paths", p.item), Problem: fmt.Sprintf("the item path %s has no get: netgrade reads items back with it (FastAPI: @app.get(%q))", p.item, p.item)}
	}
	param := item.Parameters.GetByInAndName(openapi3.ParameterInPath, p.param)
	if param == nil && item.Get.Parameters != nil {
		param = item.Get.Parameters.GetByInAndName(openapi3.ParameterInPath, p.param)
	}
	if param != nil && param.Schema != nil && param.Schema.Value != nil && param.Schema.Value.Type.Is("integer") {
		c.IDType = "integer"
	}
	var err error
	if c.Create, err = bodySchema(coll.Post, "post", p.coll); err != nil {
		return c, err
	}
	if item.Put != nil {
		if c.Replace, err = bodySchema(item.Put, "put", p.item); err != nil {
			return c, err
		}
	}
	c.Item = responseSchema(item.Get, http.StatusOK)
	switch {
	case c.Item == nil || c.Item.Type == nil || len(c.Item.Type.Slice()) == 0 && len(c.Item.Properties) == 0:
		// {} or no schema: anything JSON, with a note.
		c.Item, c.AnyItem = &openapi3.Schema{}, true
	case !c.Item.Type.Is("object"):
		return c, &Error{Pointer: pointer("paths", p.item, "get", "responses", "200", "content", "application/json", "schema"), Line: originOf(c.Item.Origin),
			Problem: fmt.Sprintf("get on %s answers an item, a JSON object, yet its 200 response's schema is of type %s", p.item, strings.Join(c.Item.Type.Slice(), ", "))}
	}
	switch {
	case c.AnyItem:
		c.IDField = "id"
	case c.Item.Properties[p.param] != nil:
		c.IDField = p.param
	case c.Item.Properties["id"] != nil:
		c.IDField = "id"
	default:
		return c, &Error{Pointer: pointer("paths", p.item, "get", "responses", "200", "content", "application/json", "schema", "properties"), Line: originOf(c.Item.Origin),
			Problem: fmt.Sprintf("the item schema of %s has no property %q (nor \"id\") to hold the item's id", p.item, p.param)}
	}
	return c, nil
}

func originOf(o *openapi3.Origin) int {
	if o != nil && o.Key != nil {
		return o.Key.Line
	}
	return 0
}

// bodySchema returns the application/json schema of an operation's
// request body, which must be an object.
func bodySchema(op *openapi3.Operation, method, path string) (*openapi3.Schema, error) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, &Error{Pointer: pointer("paths", path, method), Problem: fmt.Sprintf("%s on %s has no requestBody: netgrade generates the bodies it sends from its schema (FastAPI: a pydantic model parameter, def create(item: ItemIn))", method, path), Line: originOf(op.Origin)}
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || !mt.Schema.Value.Type.Is("object") {
		return nil, &Error{Pointer: pointer("paths", path, method, "requestBody", "content", "application/json", "schema"), Problem: fmt.Sprintf("the requestBody of %s on %s needs an application/json schema of type object, with the fields a client sends (FastAPI: a pydantic model parameter, def create(item: ItemIn))", method, path), Line: originOf(op.RequestBody.Value.Origin)}
	}
	return mt.Schema.Value, nil
}

// responseSchema returns the application/json schema of a response, or nil.
func responseSchema(op *openapi3.Operation, status int) *openapi3.Schema {
	if op == nil || op.Responses == nil {
		return nil
	}
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// Source returns the document's text.
func (a *API) Source() []byte { return a.source }

// ItemURL returns the path of the item with the given id.
func (a *API) ItemURL(id string) string {
	return strings.Replace(a.Collection.ItemPath, "{"+a.Collection.IDParam+"}", url.PathEscape(id), 1)
}

// Operation returns the operation of a method on a path template, or nil.
func (a *API) Operation(method, path string) *Operation {
	for i := range a.Operations {
		if a.Operations[i].Method == method && a.Operations[i].Path == path {
			return &a.Operations[i]
		}
	}
	return nil
}

// Methods returns the methods documented on a path template, in the usual
// order (GET, POST, PUT, PATCH, DELETE, ...).
func (a *API) Methods(path string) []string {
	var ms []string
	for _, o := range a.Operations {
		if o.Path == path {
			ms = append(ms, o.Method)
		}
	}
	return ms
}

// MethodOnPath is a method sent to a path template.
type MethodOnPath struct {
	Method string
	Path   string
}

// NotAllowed returns, for the collection and item paths, the methods the
// API implements on one of them but not on the other: the requests that
// must get 405 Method Not Allowed. Methods the API uses nowhere are left
// out, since a server may answer them 501 Not Implemented.
func (a *API) NotAllowed() []MethodOnPath {
	c := a.Collection
	used := map[string]bool{}
	for _, p := range []string{c.Path, c.ItemPath} {
		for _, m := range a.Methods(p) {
			used[m] = true
		}
	}
	var out []MethodOnPath
	for _, p := range []string{c.Path, c.ItemPath} {
		have := a.Methods(p)
		for _, m := range methodOrder {
			if used[m] && !slices.Contains(have, m) {
				out = append(out, MethodOnPath{Method: m, Path: p})
			}
		}
	}
	return out
}

// alternatives are the statuses accepted in place of a documented one
// (with a note): the response is judged against the documented one.
var alternatives = map[int][]int{
	http.StatusCreated:             {http.StatusOK},
	http.StatusOK:                  {http.StatusNoContent},
	http.StatusNoContent:           {http.StatusOK},
	http.StatusBadRequest:          {http.StatusUnprocessableEntity},
	http.StatusUnprocessableEntity: {http.StatusBadRequest},
}

// Accepted returns the statuses accepted for a documented one: itself
// first, then the ones taken in its place (201: 201, 200; 400: 400, 422;
// 422: 422, 400; 200: 200, 204; 204: 204, 200).
func Accepted(documented int) []int {
	return append([]int{documented}, alternatives[documented]...)
}

// Expectation is what a check accepts as the answer of an operation, and
// where that comes from.
type Expectation struct {
	// Documented are the statuses of the kind asked for that the document
	// gives the operation, ascending; when it gives none, HTTP's usual
	// one alone.
	Documented []int
	// Accepted are Documented, then the statuses taken in their place.
	Accepted []int
	// FromDocument is false when the document is silent and Documented
	// holds HTTP's usual status.
	FromDocument bool
}

// Expect returns what an operation's answer of a kind may be: the
// documented statuses for which keep returns true (the 2xx of a success,
// the 400 or 422 of a rejected body, the 404 of an unknown id), else
// usual, HTTP's default for the case; and the statuses accepted in their
// place.
func (a *API) Expect(method, path string, keep func(int) bool, usual int) Expectation {
	var e Expectation
	if op := a.Operation(method, path); op != nil {
		for _, st := range op.Statuses {
			if keep(st) {
				e.Documented = append(e.Documented, st)
			}
		}
	}
	e.FromDocument = len(e.Documented) > 0
	if !e.FromDocument {
		e.Documented = []int{usual}
	}
	e.Accepted = slices.Clone(e.Documented)
	for _, d := range e.Documented {
		for _, alt := range alternatives[d] {
			if !slices.Contains(e.Accepted, alt) {
				e.Accepted = append(e.Accepted, alt)
			}
		}
	}
	return e
}

// Success returns what a successful answer of an operation may be: its
// documented 2xx statuses, else usual.
func (a *API) Success(method, path string, usual int) Expectation {
	return a.Expect(method, path, func(st int) bool { return st >= 200 && st < 300 }, usual)
}

// Rejection returns what the answer to an invalid body may be: the
// operation's documented 400 or 422, else 400.
func (a *API) Rejection(method, path string) Expectation {
	return a.Expect(method, path, func(st int) bool {
		return st == http.StatusBadRequest || st == http.StatusUnprocessableEntity
	}, http.StatusBadRequest)
}

// JudgedAs returns the documented status a response of an operation is
// judged against: status itself when documented, else the documented
// status it is accepted for; ok is false when neither.
func (a *API) JudgedAs(method, path string, status int) (documented int, ok bool) {
	op := a.Operation(method, path)
	if op == nil {
		return 0, false
	}
	if slices.Contains(op.Statuses, status) {
		return status, true
	}
	for _, doc := range op.Statuses {
		if slices.Contains(alternatives[doc], status) {
			return doc, true
		}
	}
	return 0, false
}
