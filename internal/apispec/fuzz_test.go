package apispec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// panicked is how Load words a panic it recovered from: a document that
// gets it has found a bug, not a mistake to show its author.
const panicked = "the document cannot be read ("

// FuzzLoad reads any document an instructor may give as the REST API's
// OpenAPI document. Load never panics, not even one it recovers from; a
// document it refuses gets one *Error naming it, saying what is wrong,
// with a line of the document when it gives one; a document it accepts
// has a collection to grade.
func FuzzLoad(f *testing.F) {
	for _, name := range Builtins() {
		data, err := builtin.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	bad, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	require.NoError(f, err)
	for _, p := range bad {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"openapi": "3.0.2", "info": {"title": "FastAPI", "version": "0.1.0"}, "paths": {}}`))
	f.Add([]byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: '#/paths/~1a'\n"))
	f.Add([]byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		api, err := Load("api.yaml", data)
		if err == nil {
			require.NotNil(t, api)
			require.Equal(t, "api.yaml", api.Name)
			return
		}
		require.Nil(t, api)
		var e *Error
		require.True(t, errors.As(err, &e), "an *Error: %v", err)
		require.Equal(t, "api.yaml", e.Name)
		require.NotEmpty(t, strings.TrimSpace(e.Problem))
		require.False(t, strings.HasPrefix(e.Problem, panicked), "Load panicked: %s", e.Problem)
		// The YAML parser names the line after the last for a mistake
		// it finds at the end of the document.
		lines := strings.Count(string(data), "\n") + 1
		require.True(t, e.Line >= 0 && e.Line <= lines+1, "line %d of %d: %s", e.Line, lines, e.Problem)
		require.True(t, strings.HasPrefix(err.Error(), "API document api.yaml"), err.Error())
	})
}

// FuzzRecognise reads any body a student's REST API may answer with.
// Recognise never panics and always names what it saw; a body it decodes
// (JSON, or a Python literal) has a value that is JSON again; an exception
// it reports is text of the body.
func FuzzRecognise(f *testing.F) {
	pages, err := filepath.Glob(filepath.Join("testdata", "bodies", "*"))
	require.NoError(f, err)
	for _, p := range pages {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add("text/html; charset=utf-8", data)
	}
	for _, s := range []string{
		`[{"id": 1, "title": "café", "done": false}]`,
		`[{'id': 1, 'title': 'caf\xe9', 'done': False, 'tags': None, 'n': 1e3}]`,
		`b'{"id": 1}'`,
		`{'a': (1, 2), 'b': {1, 2}, 'c': -0.5, "d": '\'q\''}`,
		"Traceback (most recent call last):\n  File \"app.py\", line 9, in todos\nKeyError: 'title'\n",
		"Internal Server Error",
	} {
		f.Add("application/json", []byte(s))
		f.Add("text/plain", []byte(s))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := Recognise(contentType, body)
		require.NotEmpty(t, r.Kind)
		require.NotEmpty(t, r.Name)
		if r.Kind == JSON || r.Kind == PythonRepr || r.Kind == PythonBytes {
			_, err := json.Marshal(r.Value)
			require.NoError(t, err, "the decoded value of %q is JSON", body)
		}
		if r.Exception != "" && r.Kind != HTML {
			require.Contains(t, string(body), r.Exception)
		}
		again := Recognise(contentType, body)
		require.Equal(t, r.Kind, again.Kind)
		require.Equal(t, r.Name, again.Name)
	})
}
