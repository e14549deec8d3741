package apispec

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastapiDoc is a document as FastAPI 0.92 writes it for an APIRouter with
// prefix "/tasks" and routes without response_model, on one line, with
// the schema of the body given by the test.
func fastapiDoc(t *testing.T, body map[string]any) []byte {
	t.Helper()
	anyJSON := map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}
	ok := map[string]any{"description": "Successful Response", "content": anyJSON}
	invalid := map[string]any{"description": "Validation Error", "content": anyJSON}
	param := []any{map[string]any{"name": "task_id", "in": "path", "required": true, "schema": map[string]any{"type": "integer", "title": "Task Id"}}}
	reqBody := map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/TaskIn"}}}}
	doc := map[string]any{
		"openapi": "3.0.2", "info": map[string]any{"title": "Tasks", "version": "0.1.0"},
		"paths": map[string]any{
			"/tasks/": map[string]any{
				"get":  map[string]any{"responses": map[string]any{"200": ok}},
				"post": map[string]any{"requestBody": reqBody, "responses": map[string]any{"200": ok, "422": invalid}},
			},
			"/tasks/{task_id}": map[string]any{
				"get":    map[string]any{"parameters": param, "responses": map[string]any{"200": ok, "422": invalid}},
				"put":    map[string]any{"parameters": param, "requestBody": reqBody, "responses": map[string]any{"200": ok, "422": invalid}},
				"delete": map[string]any{"parameters": param, "responses": map[string]any{"200": ok, "422": invalid}},
			},
		},
		"components": map[string]any{"schemas": map[string]any{"TaskIn": body}},
	}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return raw
}

// TestFastAPILayout: a collection written with a trailing slash, an item
// schema of {}, a pattern on an optional field without an example and one
// on a required field: the document is gradable, with a note for the {}
// schema, and every generated body is valid.
func TestFastAPILayout(t *testing.T) {
	raw := fastapiDoc(t, map[string]any{
		"type": "object", "required": []any{"title", "isbn"},
		"properties": map[string]any{
			"title":     map[string]any{"type": "string"},
			"isbn":      map[string]any{"type": "string", "pattern": `^97[89][0-9]{10}$`, "example": "9780306406157"},
			"shelf":     map[string]any{"type": "string", "pattern": `^[A-Z][0-9]{2}$`},
			"completed": map[string]any{"type": "boolean", "default": false},
			"due":       map[string]any{"type": "string", "format": "date-time"},
		},
	})
	api, err := Load("openapi.json", raw)
	require.NoError(t, err)
	c := api.Collection
	assert.Equal(t, "/tasks/", c.Path)
	assert.Equal(t, "/tasks/{task_id}", c.ItemPath)
	assert.True(t, c.AnyItem)
	assert.Equal(t, "id", c.IDField)
	require.Len(t, api.Notes, 1)
	assert.Contains(t, api.Notes[0], "response_model")
	assert.Equal(t, "/tasks/7", api.ItemURL("7"))

	g := NewGenerator(c.Create, Seed)
	isbn := regexp.MustCompile(`^97[89][0-9]{10}$`)
	seen := map[string]bool{}
	for range 10 {
		b := g.Full()
		require.NoError(t, c.Create.VisitJSON(b.Value, openapi3.MultiErrors()), string(b.Raw))
		v, _ := b.Value["isbn"].(string)
		assert.Regexp(t, isbn, v)
		assert.NotEqual(t, "9780306406157", v, "the example is not sent as is: every body would carry the same ISBN")
		assert.False(t, seen[v], "ISBN %s sent twice", v)
		seen[v] = true
	}
	assert.Empty(t, g.Unvaried(), "every string field varied")

	// Statuses from the document: FastAPI's 200 for POST, its 422.
	created := api.Success(http.MethodPost, c.Path, http.StatusCreated)
	assert.Equal(t, []int{200}, created.Documented)
	assert.True(t, created.FromDocument)
	assert.Equal(t, []int{200, 204}, created.Accepted)
	rejected := api.Rejection(http.MethodPost, c.Path)
	assert.Equal(t, []int{422, 400}, rejected.Accepted)
	notFound := api.Expect(http.MethodGet, c.ItemPath, func(st int) bool { return st == 404 }, 404)
	assert.False(t, notFound.FromDocument, "FastAPI documents no 404")
	assert.Equal(t, []int{404}, notFound.Documented)
}

// TestUnvariedFields: a field whose pattern allows two values, or whose
// maxLength leaves no room for a serial number, cannot be unique from
// body to body (nor can an enum of two values): the generator says which.
func TestUnvariedFields(t *testing.T) {
	schema := &openapi3.Schema{Type: &openapi3.Types{"object"}, Required: []string{"colour", "code", "name"}, Properties: openapi3.Schemas{
		"colour": {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: `^(red|blue)$`}},
		"code":   {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, MaxLength: ptr(uint64(1))}},
		"name":   {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, MaxLength: ptr(uint64(6))}},
		"size":   {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"S", "M"}}},
		"tags":   {Value: &openapi3.Schema{Type: &openapi3.Types{"array"}, Items: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"a", "b"}}}}},
	}}
	g := NewGenerator(schema, Seed)
	names := map[string]bool{}
	for range 12 {
		b := g.Full()
		require.NoError(t, schema.VisitJSON(b.Value), string(b.Raw))
		names[b.Value["name"].(string)] = true
	}
	assert.Equal(t, []string{"code", "colour", "size"}, g.Unvaried(), "a list of enum values is no identity")
	assert.Len(t, names, 12, "a short maxLength keeps the serial number")
}

func ptr[T any](v T) *T { return &v }

// TestRefusalsLocateThePlace: a one-line document (FastAPI's) that lacks
// what a check needs is refused with the JSON pointer of the place, never
// "line 1", and the fix in FastAPI's terms.
func TestRefusalsLocateThePlace(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(fastapiDoc(t, map[string]any{"type": "object", "properties": map[string]any{"title": map[string]any{"type": "string"}}}), &doc))
	item := doc["paths"].(map[string]any)["/tasks/{task_id}"].(map[string]any)
	delete(item, "get")
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	_, err = Load("openapi.json", raw)
	var de *Error
	require.ErrorAs(t, err, &de)
	assert.Zero(t, de.Line)
	assert.Equal(t, "/paths/~1tasks~1{task_id}", de.Pointer)
	assert.NotContains(t, err.Error(), "line 1")
	assert.Contains(t, err.Error(), `@app.get("/tasks/{task_id}")`)
}

// TestFormatsInWords: a date-time without a zone and a string that misses
// its pattern are told in a sentence with a valid example, not as the
// regular expression kin-openapi checks them with.
func TestFormatsInWords(t *testing.T) {
	schema := &openapi3.Schema{Type: &openapi3.Types{"object"}, Properties: openapi3.Schemas{
		"due":  {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "date-time"}},
		"code": {Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: `^[A-Z]{3}-[0-9]{4}$`}},
	}}
	err := schema.VisitJSON(map[string]any{"due": "2024-01-01T09:00:00", "code": "abc"}, openapi3.MultiErrors())
	ps := problems(err, Ignore{})
	require.Len(t, ps, 2)
	text := Problems(ps)
	assert.Contains(t, text, "at .due the document wants an RFC 3339 date-time with a zone, e.g. 2024-01-01T09:00:00Z")
	assert.Contains(t, text, "at .code the document wants a string matching the pattern ^[A-Z]{3}-[0-9]{4}$, e.g. \"")
	assert.NotContains(t, text, "0[1-9]", "no regular expression of a format")
}
