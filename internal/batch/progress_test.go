package batch_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/stretchr/testify/assert"
)

func TestProgress(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		var buf bytes.Buffer
		p := batch.NewProgress(&buf, terminal)
		p.Start(4, 1)
		p.Graded(batch.Student{ID: "alice"}, &batch.Record{Score: 5, MaxScore: 10, DurationMS: 1200,
			Files:     []batch.FoundFile{{Exercise: "udp-server", Path: "udp-server.py", AlsoFound: []string{"net-python/udp-server.py"}}},
			NotGraded: []string{"python/socket_server.py"}}, nil)
		p.Graded(batch.Student{ID: "carol"}, &batch.Record{MaxScore: 10, Problem: "bad archive: carol.zip cannot be read as a zip archive"}, nil)
		p.Graded(batch.Student{ID: "bob"}, nil, errors.New("sandbox broke\x1b[2J"))
		p.Finish()
		out := buf.String()
		assert.Contains(t, out, "1 already graded", "terminal=%v", terminal)
		assert.Contains(t, out, "alice: handed in, not graded: python/socket_server.py\n", "files no exercise took are named (terminal=%v)", terminal)
		assert.Contains(t, out, "alice: udp-server: graded udp-server.py; also found: net-python/udp-server.py\n", "other candidates are named (terminal=%v)", terminal)
		assert.Contains(t, out, `bob: NOT GRADED: sandbox broke\x1b[2J`, "errors are printed, escapes neutralised (terminal=%v)", terminal)
		assert.NotContains(t, out, "\x1b[2J")
		assert.Contains(t, out, "carol: NOT GRADED PROPERLY: bad archive: carol.zip cannot be read as a zip archive", "a bad submission is named as it happens (terminal=%v)", terminal)
		if terminal {
			assert.Contains(t, out, "4/4", "the bar counts students")
			assert.Contains(t, out, "\r", "the bar redraws itself")
		} else {
			assert.Contains(t, out, "[2/4] alice: 5/10 in 1.2s")
			assert.Contains(t, out, "[4/4] bob: NOT GRADED")
			assert.Contains(t, out, "[3/4] carol: NOT GRADED PROPERLY: bad archive: carol.zip cannot be read as a zip archive (0/10 on what could be graded)")
			assert.NotContains(t, out, "[3/4] carol: 0/10", "a score of what could be graded is not shown as the student's grade")
			assert.NotContains(t, out, "\r", "plain lines for logs")
		}
	}
}
