package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/apispec"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every flag of every command a person runs is in that command's help,
// with a description.
func TestEveryFlagIsInItsHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			args := strings.Fields(sub.CommandPath())[1:]
			code, out, _ := runCLI(t, append(args, "--help")...)
			require.Equal(t, exitOK, code, sub.CommandPath())
			sub.Flags().VisitAll(func(f *pflag.Flag) {
				n++
				assert.NotEmpty(t, f.Usage, "%s --%s has no description", sub.CommandPath(), f.Name)
				// pflag takes a word between backticks for the value's
				// name: "--python python:" instead of "--python string".
				assert.NotContains(t, f.Usage, "`", "%s --%s: a backtick in its description names its value", sub.CommandPath(), f.Name)
				assert.Contains(t, out, "--"+f.Name, "%s --help does not show --%s", sub.CommandPath(), f.Name)
			})
			walk(sub)
		}
	}
	walk(newRoot(io.Discard, io.Discard))
	assert.Greater(t, n, 30, "the walk saw the commands' flags")

	// ref parses no flag itself (a message may start with a dash): the
	// reference's own --spec is in its help.
	code, out, _ := runCLI(t, "ref", "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "netgrade ref rest-api       [--spec DOCUMENT] [PORT]")
	assert.Contains(t, out, "rest-api's --spec DOCUMENT")
}

// course show --spec prints the API document a student's rest-api must
// serve: the built-in course's, one named, or the one a course file names.
func TestCourseShowSpec(t *testing.T) {
	todo, err := apispec.Builtin(apispec.DefaultName)
	require.NoError(t, err)
	books, err := apispec.Builtin("books-api.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	courseFile := filepath.Join(dir, "course.yaml")
	require.NoError(t, os.WriteFile(courseFile, []byte("exercises:\n  - id: rest-api\n    file: rest-api.py\n    texts:\n      spec: books-api.yaml\n"), 0o644))

	for _, tc := range []struct {
		args []string
		code int
		want []byte
	}{
		{[]string{"course", "show", "--spec"}, exitOK, todo.Source()},
		{[]string{"course", "show", "--spec=books-api.yaml"}, exitOK, books.Source()},
		{[]string{"course", "show", "--spec", "--course", courseFile}, exitOK, books.Source()},
		{[]string{"course", "show", "--spec=" + filepath.Join(dir, "nope.yaml")}, exitUsage, nil},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errOut)
		if tc.want != nil {
			assert.True(t, bytes.Equal(tc.want, []byte(out)), "%v prints the document", tc.args)
		}
	}
	code, out, _ := runCLI(t, "course", "show")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "netgrade course file")
}
