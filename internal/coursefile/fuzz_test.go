package coursefile

import (
	"errors"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/stretchr/testify/require"
)

// FuzzParse reads any course file an instructor may write. Parse never
// panics; a file it refuses gets errors that each say where (this file, a
// line of it, a column) and what, the same every time; a file it accepts
// gives a course whose exercises are the registry's, each with its file.
func FuzzParse(f *testing.F) {
	reg := course.Registry()
	f.Add(course.YAML())
	head := "exercises:\n  - id: udp-server\n    file: udp-server.py\n"
	for _, s := range []string{
		"exercises: [\n  - id: udp-server\n",
		head + "    checks:\n      usage: {points: 2\n      spaces: {visibility: hidden}\n",
		"exercise:\n  - id: udp-server\n",
		head + "    checks:\n      usage: {points: two, visibility: secret, timeout: 20}\n",
		"exercises:\n  - id: tcp-tickets\n    file: t.py\n    texts:\n      ticket_pattern: 'number (\\d+'\n",
		"exercises:\n  - id: http-server\n    file: h.py\n    texts:\n      zone: Mars/Olympus\n      port: eighty\n",
		"exercises:\n  - id: rest-api\n    file: r.py\n    texts:\n      spec: books\n",
		"timeouts:\n  scale: 0\nrun:\n  command: python3 {args}\n  race_hook: off please\n" + head,
		"name: &a [*a]\n",
		"--- a\n--- b\n",
		"\xef\xbb\xbfname: \"caf\xc3\xa9\"\r\nexercises: []\r\n",
		"exercises:\n  - {id: udp-server, file: s.py, checks: {starts: {points: 1e309}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("my-course.yaml", data, reg)
		if err == nil {
			require.NotNil(t, c)
			for _, e := range c.Exercises {
				_, gerr := reg.Get(e.ID)
				require.NoError(t, gerr, "exercise %q is the registry's", e.ID)
				require.NotEmpty(t, e.File, "exercise %s has a file", e.ID)
			}
			return
		}
		require.Nil(t, c)
		var es Errors
		if errors.As(err, &es) {
			require.NotEmpty(t, es)
			// YAML ends a line with CR LF, CR or LF.
			lines := strings.Count(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(string(data), "\r\n", ""), "\r") + 1
			for _, e := range es {
				require.Equal(t, "my-course.yaml", e.File)
				require.NotEmpty(t, strings.TrimSpace(e.Msg), "the error says what is wrong")
				require.True(t, e.Line >= 1 && e.Line <= lines, "line %d of %d: %s", e.Line, lines, e.Msg)
				require.GreaterOrEqual(t, e.Column, 0)
			}
		} else {
			require.True(t, strings.HasPrefix(err.Error(), "my-course.yaml: "), "the error names the file: %v", err)
		}
		_, again := Parse("my-course.yaml", data, reg)
		require.Equal(t, err.Error(), again.Error(), "the same file, the same message")
	})
}
