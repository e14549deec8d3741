package e2e

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture returns a sample submission's source.
func fixture(t *testing.T, exercise, name string) []byte {
	t.Helper()
	fs, err := fixtures.For(exercise)
	require.NoError(t, err)
	for _, f := range fs {
		if f.Name == name {
			return f.Source
		}
	}
	t.Fatalf("no fixture %s/%s", exercise, name)
	return nil
}

// TestGuessThenGrade takes a class laid out as real ones are (files in
// sub-folders, two versions of one exercise, names that differ per
// student, a folder with files of no exercise, a zip wrapping a folder
// named after the student): under the default course most of its files
// are handed in and not graded, and said so; `netgrade course guess`
// proposes names that take every exercise file and lists what it could
// not place; `netgrade batch --course` with that file grades them.
func TestGuessThenGrade(t *testing.T) {
	udp, udpArgparse := fixture(t, "udp-client", "plain.py"), fixture(t, "udp-client", "argparse_client.py")
	tcp, tcpWith := fixture(t, "tcp-client", "plain.py"), fixture(t, "tcp-client", "create_connection.py")
	subs := filepath.Join(t.TempDir(), "class")
	files := map[string][]byte{
		"ana/python/udp_client.py":  udp,
		"ana/python/tcp-client.py":  tcp,
		"ana/old/net/udp_client.py": udpArgparse, // an older copy, deeper
		"ana/README.md":             []byte("# Network programming\n"),
		"ben/sender.py":             udp,
		"ben/client_v1.py":          tcp,
		"ben/client_v2.py":          tcpWith, // two versions, side by side
		"cid/lab1/calc.py":          []byte("def add(a, b):\n    return a + b\n"),
	}
	for p, data := range files {
		full := filepath.Join(subs, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, data, 0o644))
	}
	writeZip(t, filepath.Join(subs, "dee.zip"), map[string][]byte{"dee/UDP-Client.py": udpArgparse, "dee/tcp_client.py": tcpWith})

	// Under the default course, what the students named their own way
	// is seen, not graded.
	def := filepath.Join(t.TempDir(), "default")
	res := netgrade(t, "batch", subs, "-o", def, "--sandbox", "process", "-j", "4", "--exercise", "udp-client,tcp-client")
	assert.Contains(t, res.Stderr(), "ben: handed in, not graded: client_v1.py, client_v2.py, sender.py", res.Combined())
	assert.Contains(t, res.Stderr(), "cid: handed in, not graded: lab1/calc.py")

	// The proposal takes every exercise file and names what it leaves.
	proposal := filepath.Join(t.TempDir(), "course.yaml")
	res = netgrade(t, "course", "guess", subs, "-o", proposal)
	require.Equal(t, 0, res.ExitCode, res.Combined())
	data, err := os.ReadFile(proposal)
	require.NoError(t, err)
	crs, err := coursefile.Parse(proposal, data, course.Registry())
	require.NoError(t, err, string(data))
	assert.Equal(t, []string{"udp-client.py", "udp_client.py", "sender.py"}, crs.Exercise("udp-client").Files, string(data))
	assert.Equal(t, []string{"tcp-client.py", "client_v1.py", "client_v2.py", "tcp_client.py"}, crs.Exercise("tcp-client").Files, string(data))
	text := string(data)
	assert.Contains(t, text, "# udp_client.py takes: ana/python/udp_client.py\n")
	assert.Contains(t, text, "# udp-client.py takes: dee/dee/UDP-Client.py\n", "names are matched without regard to case")
	assert.Contains(t, text, "#   cid/lab1/calc.py: its content matches no exercise of the course\n")
	assert.Contains(t, text, "#   ana/old/net/udp_client.py: another file of udp-client is graded: ana/python/udp_client.py")
	assert.Contains(t, text, "#   ben/client_v2.py: another file of tcp-client is graded: ben/client_v1.py")
	assert.Contains(t, res.Stderr(), "9 source files of 4 students: 8 read as an exercise, 6 taken by the names proposed in "+proposal)
	assert.NotContains(t, text, "README")

	// Graded with it, every student's files are found and graded.
	out := filepath.Join(t.TempDir(), "out")
	res = netgrade(t, "batch", subs, "-o", out, "--sandbox", "process", "-j", "2", "--course", proposal, "--exercise", "udp-client,tcp-client")
	require.Equal(t, 4, res.ExitCode, "cid handed in no exercise file: a problem named at the end\n%s", res.Combined())
	assert.Contains(t, res.Stdout(), "cid: no exercise file in the submission")
	rows := readCSV(t, filepath.Join(out, "grades.csv"))
	require.Equal(t, []string{"student", "udp-client", "tcp-client", "total", "not_graded"}, rows[0])
	var sum batch.Summary
	js, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &sum))
	max := map[string]string{}
	for _, e := range sum.Exercises {
		max[e.ID] = strconv.FormatFloat(e.MaxScore, 'f', -1, 64)
	}
	recs, err := batch.ReadRecords(out)
	require.NoError(t, err)
	for _, r := range recs {
		for _, res := range r.Results {
			for _, c := range res.Checks {
				if c.Status != "pass" && !res.Missing {
					t.Logf("%s: %s %s: %s", r.Student, c.ID, c.Status, c.Message)
				}
			}
		}
	}
	for _, r := range rows[1:] {
		if r[0] == "cid" {
			assert.Equal(t, []string{"missing", "missing"}, r[1:3])
			continue
		}
		assert.Equal(t, []string{max["udp-client"], max["tcp-client"]}, r[1:3], "%s: every file found and graded, full marks", r[0])
	}
	for _, e := range sum.Exercises {
		assert.Equal(t, 1, e.Missing, "%s: only cid did not hand it in", e.ID)
	}
	taken := map[string]string{}
	for _, r := range recs {
		var paths []string
		for _, f := range r.Files {
			paths = append(paths, f.Path)
		}
		taken[r.Student] = strings.Join(paths, " ")
	}
	assert.Equal(t, map[string]string{
		"ana": "python/udp_client.py python/tcp-client.py",
		"ben": "sender.py client_v1.py",
		"cid": " ",
		"dee": "dee/UDP-Client.py dee/tcp_client.py",
	}, taken)
	assert.Contains(t, res.Stderr(), "ana: udp-client: graded python/udp_client.py; also found: old/net/udp_client.py")
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "lab1/calc.py")
	assert.Contains(t, string(page), "old/net/udp_client.py")
}

// writeZip writes an archive of files.
func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, data := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
}
