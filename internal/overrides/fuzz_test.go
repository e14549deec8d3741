package overrides_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/overrides"
	"gotest.tools/v3/assert"
)

// FuzzParse reads any overrides file an instructor may write. Parse never
// panics; a file it refuses gets errors that each say where (this file, a
// line of it, a column) and what, the same every time; a file it accepts
// holds overrides of the course's checks and exercises, each with one of
// set and add, a comment, an author and a date.
func FuzzParse(f *testing.F) {
	entry := "    comment: c\n    by: b\n    at: 2026-12-01\n"
	for _, s := range []string{
		"alice:\n  - check: udp-server/log-format\n    set: 2\n" + entry,
		"alice:\n  - {exercise: udp-server, check: utf8, add: -1, comment: c, by: b, at: 2026-12-01 10:00}\n",
		"alice:\n  - check: [udp-server\n",
		"alice: &a [*a]\n",
		"<<: {alice: []}\n",
		"--- a\n--- b\n",
		"alice:\n  - check: udp-server/utf8\n    set: 1e309\n" + entry,
		"alice:\n  - exercise: udp-client\n    set: .nan\n" + entry,
		"\xef\xbb\xbfalice:\r\n  - {exercise: udp-client, add: 1, comment: \"caf\xc3\xa9\", by: b, at: 2026-12-01}\r\n",
		"12345:\n  - {}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := overrides.Parse("o.yaml", data, catalog)
		if err == nil {
			for _, o := range file.Overrides {
				tg, ok := catalog[o.Exercise]
				assert.Assert(t, ok && tg.Check == "", "exercise %q is the course's", o.Exercise)
				if o.Check != "" {
					assert.Equal(t, catalog[o.Check].Exercise, o.Exercise)
				}
				assert.Assert(t, (o.Set == nil) != (o.Add == nil), "one of set and add")
				assert.Assert(t, o.Comment != "" && o.By != "" && !o.At.IsZero())
			}
			return
		}
		var es overrides.Errors
		if errors.As(err, &es) {
			assert.Assert(t, len(es) > 0)
			lines := strings.Count(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(string(data), "\r\n", ""), "\r") + 1
			for _, e := range es {
				assert.Equal(t, e.File, "o.yaml")
				assert.Assert(t, strings.TrimSpace(e.Msg) != "", "the error says what is wrong")
				assert.Assert(t, e.Line >= 1 && e.Line <= lines, "line %d of %d: %s", e.Line, lines, e.Msg)
				assert.Assert(t, e.Column >= 0)
			}
		} else {
			assert.Assert(t, strings.HasPrefix(err.Error(), "o.yaml: "), "the error names the file: %v", err)
		}
		_, again := overrides.Parse("o.yaml", data, catalog)
		assert.Equal(t, err.Error(), again.Error(), "the same file, the same message")
	})
}
