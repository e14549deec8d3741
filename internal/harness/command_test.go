package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFileTemplate checks how a course's run template is filled with a
// submission file and an exercise's args.
func TestFileTemplate(t *testing.T) {
	const file = "/sub/udp-server.py"
	cases := []struct {
		name     string
		template []string
		args     []string
		want     []string
	}{
		{"plain", []string{"python3", "{file}", "{args}"}, []string{"{port}"}, []string{"python3", file, "{port}"}},
		{"no args", []string{"python3", "{file}", "{args}"}, nil, []string{"python3", file}},
		{"only args, none given", []string{"{args}"}, nil, nil},
		{"file inside a token", []string{"runner", "--script={file}", "{args}"}, []string{"{port}"}, []string{"runner", "--script=" + file, "{port}"}},
		{"several args", []string{"python3", "-X", "utf8", "{file}", "{args}"}, []string{"{host}", "{port}", "{message}"}, []string{"python3", "-X", "utf8", file, "{host}", "{port}", "{message}"}},
		{"args before file", []string{"{args}", "{file}"}, []string{"-v"}, []string{"-v", file}},
		{"other placeholders kept", []string{"python3", "{file}", "--port={port}"}, nil, []string{"python3", file, "--port={port}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, FileTemplate(c.template, file, c.args))
		})
	}
}
