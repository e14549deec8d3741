package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// similarityServer is a student's tcp-upper server; copied with its names
// changed by another.
const similarityServer = `import socket
import sys


def serve(conn, addr):
    data = conn.recv(1024)
    text = data.decode("utf-8").strip()
    print("received", text, "from", addr[0])
    conn.sendall(text.upper().encode("utf-8"))
    conn.close()


def main():
    if len(sys.argv) != 2:
        print("Usage: tcp-upper.py PORT")
        sys.exit(1)
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("", port))
    s.listen(5)
    while True:
        conn, addr = s.accept()
        serve(conn, addr)


main()
`

// otherServer is written apart.
const otherServer = `import socketserver as ss
from sys import argv, exit

class Upper(ss.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline()
        self.wfile.write(line.strip().upper())

try:
    p = int(argv[1])
except (IndexError, ValueError):
    print("Usage: server.py PORT")
    exit(2)
ss.TCPServer(("", p), Upper).serve_forever()
`

// writeGraded writes a batch output of students graded on tcp-upper, with
// the copies of their files a batch keeps.
func writeGraded(t *testing.T, out string, files map[string]string) {
	t.Helper()
	for id, src := range files {
		rec := batch.Record{Schema: batch.RecordSchema, Student: id, Source: id, Sandbox: "process",
			Files:   []batch.FoundFile{{Exercise: "tcp-upper", Path: "python/tcp-upper.py"}},
			Results: []report.Result{{Schema: 1, Exercise: "tcp-upper", Submission: id, Score: 2, MaxScore: 2, Checks: []report.Check{{ID: "tcp-upper/upper", Status: report.Pass, Points: 2, MaxPoints: 2}}}},
			Score:   2, MaxScore: 2, GradedAt: time.Now().UTC()}
		data, err := json.Marshal(rec)
		assert.NilError(t, err)
		assert.NilError(t, batch.WriteFileAtomic(batch.RecordPath(out, id), data))
		assert.NilError(t, batch.WriteFileAtomic(batch.SourcePath(out, id, "python/tcp-upper.py"), []byte(src)))
	}
}

func TestSimilarityCommand(t *testing.T) {
	out := t.TempDir()
	writeGraded(t, out, map[string]string{
		"alice": similarityServer,
		"bob": regexp.MustCompile(`\b(serve|conn|data|port)\b`).ReplaceAllStringFunc(similarityServer, func(w string) string {
			return map[string]string{"serve": "handle_client", "conn": "c", "data": "received", "port": "p"}[w]
		}),
		"carol": otherServer,
	})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"similarity", out}, &stdout, &stderr)
	assert.Equal(t, code, 0, "stderr: %s", stderr.String())
	assert.Check(t, is.Contains(stdout.String(), "1 pair to look at"))
	assert.Check(t, is.Contains(stdout.String(), "tcp-upper: alice and bob: 100% similar"))

	var sum struct {
		Similarity struct {
			Exercises []struct {
				Exercise string
				Files    int
				Pairs    []struct {
					A string `json:"student_a"`
					B string `json:"student_b"`
				}
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(data, &sum))
	assert.Equal(t, len(sum.Similarity.Exercises), 1, "only the exercise graded: %s", data)
	ex := sum.Similarity.Exercises[0]
	assert.Equal(t, ex.Files, 3)
	assert.Equal(t, len(ex.Pairs), 1)
	assert.Equal(t, ex.Pairs[0].A+"+"+ex.Pairs[0].B, "alice+bob")

	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(page), `<a href="similarity.html">Similarity across the class</a>: 1 pair`))
	csvData, err := os.ReadFile(filepath.Join(out, "similarity.csv"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(csvData), "tcp-upper,alice,python/tcp-upper.py,bob,python/tcp-upper.py,1.00,"))
	sim, err := os.ReadFile(filepath.Join(out, "similarity.html"))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(sim), "never verdicts"))
	// Nothing of it in a student's own record.
	rec, err := os.ReadFile(batch.RecordPath(out, "alice"))
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(string(rec), "bob"))
}

func TestSimilarityCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"similarity"}, "give the output folder of a batch: netgrade similarity OUT"},
		{"not a batch output", []string{"similarity", t.TempDir()}, "is not the output folder of a netgrade batch (it has no students folder)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			assert.Equal(t, code, exitUsage)
			assert.Check(t, is.Contains(stderr.String(), tc.want))
		})
	}
}
