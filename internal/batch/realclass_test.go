package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// TestClassAsItComes grades a class laid out as real students' hand-ins
// are: files in sub-folders, two versions of one exercise, names that
// differ per student, a folder with files of no exercise, and a zip
// wrapping a folder named after the student. Each exercise's file is taken
// by the course's names and patterns, and everything else handed in is
// named in the record, the student's page, summary.json and the class
// report; "not handed in" counts only the student with no candidate.
func TestClassAsItComes(t *testing.T) {
	subs := t.TempDir()
	write(t, subs, map[string]string{
		// Sub-folders, and a second copy of one exercise in another.
		"ana/udp-server.py":            "pass",
		"ana/python/udp_client.py":     "pass",
		"ana/net-python/udp-server.py": "pass",
		"ana/python/socket_server.py":  "pass",
		"ana/README.md":                "my work",
		// Names of the student's own, two versions of the client.
		"ben/server-udp.py":         "pass udp-server/log-format",
		"ben/udpclient_v1.py":       "pass",
		"ben/udpclient_v2.py":       "pass",
		"ben/notes/myhttpserver.py": "pass",
		// Files of no exercise at all.
		"cid/lab1/hello.py": "pass",
		"cid/lab1/calc.py":  "pass",
	})
	// A zip that wraps a folder named after the student.
	makeZip(t, filepath.Join(subs, "dee.zip"),
		zipEntry{name: "dee/", mode: os.ModeDir | 0o755},
		zipEntry{name: "dee/udp-server.py", data: "pass"},
		zipEntry{name: "dee/extra/udp-client.py", data: "pass"},
		zipEntry{name: "dee/extra/ping.py", data: "pass"})

	rules := []batch.Rule{
		{Exercise: "udp-server", Patterns: []string{"udp-server.py", "*udp*serv*.py", "server-udp.py"}},
		{Exercise: "udp-client", Patterns: []string{"udp-client.py", "udp?client.py", "udpclient*.py"}},
	}
	notes := map[string][]string{}
	var mu sync.Mutex
	opt := options(t.TempDir(), newFake())
	opt.Find = batch.RulesFinder(rules)
	opt.StudentPage = func(w io.Writer, rs []report.Result, n []string) error {
		mu.Lock()
		defer mu.Unlock()
		notes[rs[0].Submission] = n
		_, err := io.WriteString(w, "<p>"+strings.Join(n, "<br>")+"</p>")
		return err
	}
	students, err := batch.Discover(subs)
	require.NoError(t, err)
	require.Len(t, students, 4)
	_, err = batch.Run(context.Background(), students, opt)
	require.NoError(t, err)
	recs, err := batch.ReadRecords(opt.Out)
	require.NoError(t, err)
	require.Len(t, recs, 4)
	rec := map[string]*batch.Record{}
	for _, r := range recs {
		rec[r.Student] = r
	}

	taken := func(id string) []string {
		var out []string
		for _, f := range rec[id].Files {
			out = append(out, f.Path)
		}
		return out
	}
	assert.Equal(t, []string{"udp-server.py", "python/udp_client.py"}, taken("ana"))
	assert.Equal(t, []string{"net-python/udp-server.py"}, rec["ana"].Files[0].AlsoFound)
	assert.Equal(t, []string{"python/socket_server.py"}, rec["ana"].NotGraded, "a .py of no exercise; README.md is no source file")
	assert.Equal(t, []string{"server-udp.py", "udpclient_v1.py"}, taken("ben"))
	assert.Equal(t, []string{"udpclient_v2.py"}, rec["ben"].Files[1].Tied, "two versions at one depth: a tie, reported")
	assert.Equal(t, []string{"notes/myhttpserver.py"}, rec["ben"].NotGraded)
	assert.Equal(t, []string{"", ""}, taken("cid"))
	assert.Equal(t, []string{"lab1/calc.py", "lab1/hello.py"}, rec["cid"].NotGraded)
	assert.Equal(t, []string{"dee/udp-server.py", "dee/extra/udp-client.py"}, taken("dee"))
	assert.Equal(t, []string{"dee/extra/ping.py"}, rec["dee"].NotGraded)
	for _, id := range []string{"ana", "ben", "dee"} {
		for _, res := range rec[id].Results {
			assert.False(t, res.Missing, "%s %s", id, res.Exercise)
			assert.Positive(t, res.Score, "%s %s is graded", id, res.Exercise)
		}
	}

	var anaNotes []string
	for sub, n := range notes {
		if strings.HasPrefix(sub, "ana/") {
			anaNotes = n
		}
	}
	assert.Contains(t, anaNotes, "handed in, not graded: python/socket_server.py", "the student's page says it")
	assert.Contains(t, anaNotes, "udp-server: graded udp-server.py; also found: net-python/udp-server.py")

	sum, err := batch.WriteClassFiles(opt.Out, classExercises(), batch.ReportMeta{Version: "test"})
	require.NoError(t, err)
	for _, e := range sum.Exercises {
		assert.Equal(t, 1, e.Missing, "%s: only cid, who has no candidate file, did not hand it in", e.ID)
	}
	data, err := os.ReadFile(filepath.Join(opt.Out, "summary.json"))
	require.NoError(t, err)
	var js struct {
		Unplaced []batch.Unplaced `json:"files_not_graded"`
	}
	require.NoError(t, json.Unmarshal(data, &js))
	require.Len(t, js.Unplaced, 4)
	assert.Equal(t, batch.Unplaced{Student: "ana", NotGraded: []string{"python/socket_server.py"},
		AlsoFound: []batch.ExerciseFile{{Exercise: "udp-server", File: "net-python/udp-server.py", Graded: "udp-server.py"}}}, js.Unplaced[0])

	page, err := os.ReadFile(filepath.Join(opt.Out, "report.html"))
	require.NoError(t, err)
	doc, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	un := byID(doc, "unplaced")
	require.NotNil(t, un, "the class report lists what no exercise graded")
	text := strings.Join(strings.Fields(textOf(un)), " ")
	assert.Contains(t, text, "ana: handed in, not graded: python/socket_server.py; also found for udp-server: net-python/udp-server.py (graded udp-server.py)")
	assert.Contains(t, text, "cid: handed in, not graded: lab1/calc.py, lab1/hello.py")
}
