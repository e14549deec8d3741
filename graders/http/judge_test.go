package http

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestNotJSON names what a body that is not JSON is instead.
func TestNotJSON(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{"", "an empty body"},
		{`<html><body><p>Now in json file: {"time": "11:47"}</p></body></html>`, "an HTML page with JSON written inside it"},
		{`<p>Now: 11:47</p>`, "an HTML page"},
		{`{'date': '2026-01-15', 'time': '11:47'}`, "Python's repr of a dict"},
		{`[{'ok': True}]`, "Python's repr of a dict"},
		{`date=2026-01-15`, "a body that json.loads cannot read"},
	}
	for _, tc := range tests {
		var v any
		err := json.Unmarshal([]byte(tc.body), &v)
		assert.Error(t, err, tc.body)
		assert.Contains(t, notJSON([]byte(tc.body), err), tc.want, tc.body)
	}
}

// TestIsHTML tells an HTML page from text.
func TestIsHTML(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"<!DOCTYPE html><html><body></body></html>", true},
		{"<h1>Home</h1>", true},
		{"<P class=x>hello</P>", true},
		{"Welcome to my server. Routes: /date\n", false},
		{`{"a": "<b"}`, false},
		{"1 < 2 > 0", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, isHTML([]byte(tc.body)), tc.body)
	}
}
