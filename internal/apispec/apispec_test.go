package apispec

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// builtins loads every built-in document.
func builtins(t *testing.T) map[string]*API {
	t.Helper()
	out := map[string]*API{}
	for _, name := range Builtins() {
		api, err := Builtin(name)
		require.NoError(t, err, name)
		out[name] = api
	}
	require.Len(t, out, 4)
	return out
}

// TestModel derives the collection model of each built-in document; the
// golden files (go test ./internal/apispec -update rewrites them) show what
// the checks will be built from.
func TestModel(t *testing.T) {
	for name, api := range builtins(t) {
		t.Run(name, func(t *testing.T) {
			c := api.Collection
			var b strings.Builder
			fmt.Fprintf(&b, "title: %s\ncollection: %s\nitem: %s\nid: param %s, field %s, %s\n", api.Title, c.Path, c.ItemPath, c.IDParam, c.IDField, c.IDType)
			fmt.Fprintf(&b, "item fields: %s (required %s)\n", strings.Join(sortedKeys(c.Item.Properties), ", "), strings.Join(sortedRequired(c.Item), ", "))
			fmt.Fprintf(&b, "create: required %s, extra fields forbidden: %v\n", strings.Join(sortedRequired(c.Create), ", "), forbidsExtra(c.Create))
			for _, o := range api.Operations {
				fmt.Fprintf(&b, "%s %s %v\n", o.Method, o.Path, o.Statuses)
			}
			for _, na := range api.NotAllowed() {
				fmt.Fprintf(&b, "405: %s %s\n", na.Method, na.Path)
			}
			fmt.Fprintf(&b, "item 7: %s\n", api.ItemURL("7"))
			golden.Assert(t, b.String(), filepath.Join("model", strings.TrimSuffix(name, ".yaml")+".golden"))
		})
	}
}

// TestOpen finds built-in documents by name and others as files.
func TestOpen(t *testing.T) {
	api, err := Open("books-api.yaml")
	require.NoError(t, err)
	assert.Equal(t, "/api/books", api.Collection.Path)

	file := filepath.Join(t.TempDir(), "mine.yaml")
	data, err := builtin.ReadFile("todo-api.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(string(data), "/api/todos", "/api/tasks")), 0o644))
	api, err = Open(file)
	require.NoError(t, err)
	assert.Equal(t, "/api/tasks", api.Collection.Path)
	assert.Equal(t, file, api.Name)

	_, err = Open(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorContains(t, err, "reading the API document")
}

// TestFromSetting reads a course's setting: nothing, a name, a path or
// the document's text.
func TestFromSetting(t *testing.T) {
	data, err := builtin.ReadFile("books-api.yaml")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "books.yaml")
	require.NoError(t, os.WriteFile(file, data, 0o644))
	for _, tc := range []struct{ name, value, path, docName string }{
		{"default", "", "/api/todos", DefaultName},
		{"built-in", "books-api.yaml", "/api/books", "books-api.yaml"},
		{"file", file, "/api/books", file},
		{"text", string(data), "/api/books", InlineName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, err := FromSetting(tc.value)
			require.NoError(t, err)
			assert.Equal(t, tc.path, api.Collection.Path)
			assert.Equal(t, tc.docName, api.Name)
		})
	}
	_, err = FromSetting("openapi: 3.0.3\ninfo: [\n")
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, InlineName, de.Name)
}

// TestLoadErrors loads broken documents: each gets an *Error that names
// the document, the line when it can be found, and what is wrong; none
// panics. The messages are in testdata/bad/*.golden.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	wantLine := map[string]int{"yaml_syntax.yaml": 8, "bad_type.yaml": 12, "missing_ref.yaml": 14, "openapi31.yaml": 1}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var api *API
			require.NotPanics(t, func() { api, err = Load(name, data) })
			assert.Nil(t, api)
			var de *Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, name, de.Name)
			if line, ok := wantLine[name]; ok {
				assert.Equal(t, line, de.Line)
			}
			golden.Assert(t, err.Error()+"\n", filepath.Join("bad", strings.TrimSuffix(name, ".yaml")+".golden"))
		})
	}
}

// TestGenerator generates the bodies of each document: the same ones for
// the same seed (golden files), valid ones that match the schema, faulty
// ones that fail it for the reason they say.
func TestGenerator(t *testing.T) {
	for name, api := range builtins(t) {
		t.Run(name, func(t *testing.T) {
			schema := api.Collection.Create
			run := func() []Body {
				g := NewGenerator(schema, Seed)
				return append([]Body{g.Full(), g.Minimal(), g.NonASCII()}, g.Invalid()...)
			}
			bodies := run()
			assert.Equal(t, bodies, run(), "the same seed gives the same bodies")
			var b strings.Builder
			for _, body := range bodies {
				fmt.Fprintf(&b, "%s: %s\n  %s\n", body.Kind, body.What, body.Raw)
				err := schema.VisitJSON(body.Value, openapi3.MultiErrors())
				switch body.Kind {
				case Valid:
					assert.NoError(t, err, body.What)
				case Malformed:
					assert.False(t, isJSON(body.Raw), body.What)
				case NotObject:
					assert.True(t, isJSON(body.Raw), body.What)
					assert.Error(t, schema.VisitJSON([]any{}), body.What)
				default:
					assert.Error(t, err, body.What)
				}
			}
			golden.Assert(t, b.String(), filepath.Join("generated", strings.TrimSuffix(name, ".yaml")+".golden"))
			assert.Contains(t, string(bodies[2].Raw), "các bạn", "the non-ASCII body carries the course's greeting")
			kinds := map[BodyKind]int{}
			for _, body := range bodies {
				kinds[body.Kind]++
			}
			assert.Equal(t, len(schema.Required), kinds[MissingField])
			assert.Equal(t, len(schema.Properties), kinds[WrongType])
			if forbidsExtra(schema) {
				assert.Equal(t, 1, kinds[ExtraField])
			}
		})
	}
}

func isJSON(b []byte) bool {
	var v any
	return jsonUnmarshal(b, &v) == nil
}

// TestExpected fills the defaults the document gives to what a body left out.
func TestExpected(t *testing.T) {
	api := builtins(t)["todo-api.yaml"]
	got := Expected(api.Collection.Create, map[string]any{"title": "x"})
	assert.Equal(t, map[string]any{"title": "x", "done": false}, got)
	got = Expected(api.Collection.Create, map[string]any{"title": "x", "done": true})
	assert.Equal(t, map[string]any{"title": "x", "done": true}, got)
}

// TestValidateValue judges decoded bodies against the document: the
// problems are worded for a student, with the jq path, what the document
// wants and what came.
func TestValidateValue(t *testing.T) {
	apis := builtins(t)
	for _, tc := range []struct {
		name, doc, method, target string
		status                    int
		value                     any
		ignore                    Ignore
		want                      string
	}{
		{name: "good item", doc: "todo-api.yaml", method: "GET", target: "/api/todos/1", status: 200,
			value: map[string]any{"id": 1.0, "title": "x", "done": false}},
		{name: "extra response field is fine", doc: "todo-api.yaml", method: "GET", target: "/api/todos/1", status: 200,
			value: map[string]any{"id": 1.0, "title": "x", "done": false, "created": "today"}},
		{name: "string id", doc: "todo-api.yaml", method: "GET", target: "/api/todos/1", status: 200,
			value: map[string]any{"id": "1", "title": "x", "done": false},
			want:  `at .id the document wants an integer; the response has the string "1"`},
		{name: "done as text", doc: "todo-api.yaml", method: "GET", target: "/api/todos", status: 200,
			value: []any{map[string]any{"id": 1.0, "title": "x", "done": "False"}},
			want:  `at .[0].done the document wants true or false; the response has the string "False"`},
		{name: "missing fields", doc: "todo-api.yaml", method: "GET", target: "/api/todos/1", status: 200,
			value: map[string]any{"title": "x"},
			want:  "at .done the document wants a field \"done\" holding true or false; the response has no such field\nat .id the document wants a field \"id\" holding an integer; the response has no such field"},
		{name: "missing fields ignored", doc: "todo-api.yaml", method: "POST", target: "/api/todos", status: 200,
			value: map[string]any{"title": "x", "done": false}, ignore: Ignore{Missing: true}},
		{name: "a 200 to a POST is judged as the 201", doc: "todo-api.yaml", method: "POST", target: "/api/todos", status: 200,
			value: map[string]any{"id": 1.5, "title": "x", "done": false},
			want:  "at .id the document wants an integer; the response has the number 1.5"},
		{name: "object instead of list", doc: "todo-api.yaml", method: "GET", target: "/api/todos", status: 200,
			value: map[string]any{"todos": []any{}},
			want:  `at the body the document wants a JSON array; the response has an object with "todos"`},
		{name: "a 422 is judged as the 400", doc: "todo-api.yaml", method: "POST", target: "/api/todos", status: 422,
			value: "bad", want: `at the body the document wants a JSON object; the response has the string "bad"`},
		{name: "undocumented status: another check's", doc: "todo-api.yaml", method: "GET", target: "/api/todos", status: 302, value: "x"},
		{name: "no operation: another check's", doc: "todo-api.yaml", method: "DELETE", target: "/api/todos", status: 405, value: "x"},
		{name: "204 has no body to judge", doc: "todo-api.yaml", method: "DELETE", target: "/api/todos/1", status: 204, value: nil},
		{name: "book year as text", doc: "books-api.yaml", method: "GET", target: "/api/books/1", status: 200,
			value: map[string]any{"bookId": 1.0, "title": "t", "author": "a", "year": "1999", "available": true, "tags": []any{7.0}},
			want:  "at .tags[0] the document wants a string; the response has the number 7\nat .year the document wants an integer; the response has the string \"1999\""},
		{name: "book error without its field", doc: "books-api.yaml", method: "GET", target: "/api/books/9", status: 404,
			value: map[string]any{"detail": "Not Found"},
			want:  `at .error the document wants a field "error" holding a string; the response has no such field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := apis[tc.doc].ValidateValue(context.Background(), tc.method, tc.target, tc.status, tc.value, tc.ignore)
			require.NoError(t, err)
			assert.Equal(t, tc.want, Problems(ps))
		})
	}
}

// TestValidate judges whole responses: status, Content-Type and body.
func TestValidate(t *testing.T) {
	api := builtins(t)["todo-api.yaml"]
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		ignore Ignore
		want   string
	}{
		{name: "good", status: 201, header: jsonHeader, body: `{"id": 1, "title": "x", "done": false}`},
		{name: "charset is fine", status: 201, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: `{"id": 1, "title": "x", "done": false}`},
		{name: "html", status: 201, header: http.Header{"Content-Type": {"text/html"}}, body: `{"id": 1, "title": "x", "done": false}`,
			want: "the document wants Content-Type: application/json; the response has Content-Type: text/html"},
		{name: "no content type", status: 201, header: http.Header{}, body: `{"id": 1}`,
			want: "the document wants Content-Type: application/json; the response has no Content-Type"},
		{name: "undocumented status", status: 200, header: jsonHeader, body: `{"id": 1, "title": "x", "done": false}`,
			want: "the document wants a status it documents for this request; the response has 200"},
		{name: "undocumented status ignored", status: 200, header: jsonHeader, body: `{}`, ignore: Ignore{Status: true}},
		{name: "not JSON", status: 201, header: jsonHeader, body: `{'id': 1}`,
			want: "at the body the document wants a JSON body; the response has a body that is not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := api.Validate(context.Background(), "POST", "/api/todos", tc.status, tc.header, []byte(tc.body), tc.ignore)
			require.NoError(t, err)
			assert.Equal(t, tc.want, Problems(ps))
		})
	}
}

// TestJudgedAs maps the statuses accepted in place of documented ones.
func TestJudgedAs(t *testing.T) {
	api := builtins(t)["todo-api.yaml"]
	for _, tc := range []struct {
		method, path string
		status, want int
		ok           bool
	}{
		{"POST", "/api/todos", 201, 201, true},
		{"POST", "/api/todos", 200, 201, true},
		{"POST", "/api/todos", 422, 400, true},
		{"PUT", "/api/todos/{id}", 204, 200, true},
		{"DELETE", "/api/todos/{id}", 200, 204, true},
		{"GET", "/api/todos/{id}", 500, 0, false},
		{"PATCH", "/api/todos/{id}", 200, 0, false},
	} {
		got, ok := api.JudgedAs(tc.method, tc.path, tc.status)
		assert.Equal(t, tc.ok, ok, "%s %s %d", tc.method, tc.path, tc.status)
		assert.Equal(t, tc.want, got, "%s %s %d", tc.method, tc.path, tc.status)
	}
	assert.Equal(t, []int{201, 200}, Accepted(201))
	assert.Equal(t, []int{404}, Accepted(404))
}

// TestMatchAndValidateRequest matches incoming requests to the document
// and validates them as the reference server does.
func TestMatchAndValidateRequest(t *testing.T) {
	api := builtins(t)["todo-api.yaml"]
	for _, tc := range []struct {
		method, target, body string
		matchErr             error
		template             string
		bad                  string // the parameter at fault, "body", or "" when valid
	}{
		{method: "GET", target: "/api/todos", template: "/api/todos"},
		{method: "POST", target: "/api/todos", body: `{"title": "x"}`, template: "/api/todos"},
		{method: "POST", target: "/api/todos", body: `{"title": "x"`, template: "/api/todos", bad: "body"},
		{method: "POST", target: "/api/todos", body: `{"done": true}`, template: "/api/todos", bad: "body"},
		{method: "POST", target: "/api/todos", body: `{"title": "x", "extra": 1}`, template: "/api/todos", bad: "body"},
		{method: "GET", target: "/api/todos/12", template: "/api/todos/{id}"},
		{method: "GET", target: "/api/todos/abc", template: "/api/todos/{id}", bad: "id"},
		{method: "DELETE", target: "/api/todos", matchErr: ErrMethod},
		{method: "GET", target: "/elsewhere", matchErr: ErrNoPath},
	} {
		t.Run(tc.method+" "+tc.target+" "+tc.body, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://localhost"+tc.target, strings.NewReader(tc.body))
			require.NoError(t, err)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			m, err := api.Match(req)
			if tc.matchErr != nil {
				assert.ErrorIs(t, err, tc.matchErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.template, m.Path)
			err = api.ValidateRequest(context.Background(), req, m)
			if tc.bad == "" {
				assert.NoError(t, err)
				return
			}
			var re *RequestError
			require.ErrorAs(t, err, &re)
			if tc.bad == "body" {
				assert.Empty(t, re.Param, re.Error())
			} else {
				assert.Equal(t, tc.bad, re.Param)
			}
		})
	}
}

// TestNotAllowedLeavesUnusedMethods: only the methods the API uses on its
// other path are probed for 405.
func TestNotAllowedLeavesUnusedMethods(t *testing.T) {
	api := builtins(t)["todo-api.yaml"]
	for _, na := range api.NotAllowed() {
		assert.NotEqual(t, "PATCH", na.Method)
		assert.False(t, slices.Contains(api.Methods(na.Path), na.Method))
	}
}

// TestLoadTruncated loads every prefix of the built-in documents, cut at
// each line: whatever is left, Load returns a document or an *Error, and
// never panics.
func TestLoadTruncated(t *testing.T) {
	for _, name := range Builtins() {
		data, err := builtin.ReadFile(name)
		require.NoError(t, err)
		lines := strings.SplitAfter(string(data), "\n")
		for i := range lines {
			prefix := strings.Join(lines[:i], "")
			var err error
			require.NotPanics(t, func() { _, err = Load(name, []byte(prefix)) }, "%s cut after line %d", name, i)
			if err != nil {
				var de *Error
				assert.ErrorAs(t, err, &de, "%s cut after line %d", name, i)
			}
		}
	}
}
