package apispec

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

var jsonUnmarshal = json.Unmarshal

// TestRecognise names every body in testdata/bodies (real pages of Flask,
// Werkzeug's debugger, http.server and Starlette, Python reprs); what it
// says of each is in testdata/recognised.golden.
func TestRecognise(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bodies", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	types := map[string]string{".html": "text/html; charset=utf-8", ".txt": "text/plain"}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		r := Recognise(types[filepath.Ext(f)], data)
		fmt.Fprintf(&b, "%s: %s | %s", filepath.Base(f), r.Kind, r.Name)
		if r.Decodable() {
			fmt.Fprintf(&b, " | value %s", Compact(r.Value))
		}
		if r.Exception != "" {
			fmt.Fprintf(&b, " | exception %s", r.Exception)
		}
		b.WriteString("\n")
		if r.Kind != JSON {
			assert.NotEmpty(t, r.Advice, f)
		}
	}
	golden.Assert(t, b.String(), "recognised.golden")
}

// TestRecogniseCases covers bodies not worth a file.
func TestRecogniseCases(t *testing.T) {
	for _, tc := range []struct {
		contentType, body string
		kind              Kind
		value             any
	}{
		{"application/json", "", Empty, nil},
		{"application/json", "  \n", Empty, nil},
		{"application/json", `{"id": 1}`, JSON, map[string]any{"id": 1.0}},
		{"application/json", `[]`, JSON, []any{}},
		{"text/html", `{"id": 1}`, JSON, map[string]any{"id": 1.0}},
		{"application/json", `{'id': 1, 'done': True}`, PythonRepr, map[string]any{"id": 1.0, "done": true}},
		{"application/json", `[{'id': 1, 'title': "it's", 'tags': ('a', 'b'), 'n': None,}]`, PythonRepr,
			[]any{map[string]any{"id": 1.0, "title": "it's", "tags": []any{"a", "b"}, "n": nil}}},
		{"application/json", `{1: 'x'}`, PythonRepr, map[string]any{"1": "x"}},
		{"application/json", `{'title': 'c\xe1c b\u1ea1n'}`, PythonRepr, map[string]any{"title": "các bạn"}},
		{"application/json", `{'title': 'các bạn'}`, PythonRepr, map[string]any{"title": "các bạn"}},
		{"application/json", `b'{"id": 1}'`, PythonBytes, map[string]any{"id": 1.0}},
		{"application/json", `b"{'id': 1}"`, PythonBytes, map[string]any{"id": 1.0}},
		{"application/json", `True`, PythonRepr, true},
		{"application/json", `None`, PythonRepr, nil},
		{"application/json", `'not found'`, Text, nil},
		{"text/plain", `Not Found`, Text, nil},
		{"text/plain", `{"id": 1`, Text, nil},
		{"application/json", `<!DOCTYPE html><p>hi</p>`, HTML, nil},
		{"text/html", `hello`, HTML, nil},
		{"application/json", strings.Repeat("[", 200) + strings.Repeat("]", 200), JSON, nil},
		{"application/json", strings.Repeat("(", 200) + strings.Repeat(")", 200), Text, nil},
	} {
		t.Run(tc.body, func(t *testing.T) {
			var r Recognised
			require.NotPanics(t, func() { r = Recognise(tc.contentType, []byte(tc.body)) })
			assert.Equal(t, tc.kind, r.Kind, r.Name)
			if tc.value != nil || tc.kind == PythonRepr {
				assert.Equal(t, tc.value, r.Value)
			}
			assert.NotEmpty(t, r.Name)
		})
	}
}

// TestParsePythonRejects: what is not a literal is not read as one.
func TestParsePythonRejects(t *testing.T) {
	for _, s := range []string{`{'a' 1}`, `{'a': }`, `['a'`, `'abc`, `{'a': 1, 2}`, `hello`, "'a\nb'", `1 2`, `{'a': 1}}`} {
		_, err := parsePython(s)
		assert.Error(t, err, s)
	}
}
