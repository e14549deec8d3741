package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/graders/sockets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadStream(t *testing.T) {
	const r1 = `{"result":{"schema":1,"exercise":"udp-server","submission":"a/udp-server.py","score":1,"max_score":2,"checks":[],"started_at":"2026-01-01T00:00:00Z","duration_ms":1}}`
	const r2 = `{"result":{"schema":1,"exercise":"udp-client","submission":"a/udp-client.py","score":2,"max_score":2,"checks":[],"started_at":"2026-01-01T00:00:00Z","duration_ms":1}}`
	cases := []struct {
		name    string
		stream  string
		want    int
		wantErr string
	}{
		{"complete", r1 + "\n" + r2 + "\n" + `{"done":true}` + "\n", 2, ""},
		{"cut short", r1 + "\n", 2, "stopped before it had graded every exercise"},
		{"empty", "", 2, "stopped before it had graded every exercise"},
		{"runner error", r1 + "\n" + `{"error":"grading udp-client of a: context deadline exceeded"}` + "\n", 2, "unit runner: grading udp-client"},
		{"too few results", r1 + "\n" + `{"done":true}` + "\n", 2, "returned 1 results for 2 exercises"},
		{"garbage", "Traceback (most recent call last):\n", 2, "reading the unit runner's output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := readStream(strings.NewReader(c.stream), c.want)
			if c.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, res, c.want)
			assert.Equal(t, "udp-server", res[0].Exercise)
			assert.Equal(t, "udp-client", res[1].Exercise)
		})
	}
}

func TestParseUnit(t *testing.T) {
	u, err := ParseUnit([]byte(`{"student":"a","dir":"/s","files":[{"exercise":"udp-server","path":"udp-server.py"}],"course":{"udp-server":{"settings":{}}},"sandbox":"netns","timeout_ms":1000}`))
	require.NoError(t, err)
	assert.Equal(t, "a", u.Student)
	assert.Equal(t, int64(1000), u.Timeout().Milliseconds())
	for _, bad := range []string{`{"dir":"/s","files":[]}`, `{"student":"a"}`, `{"dir":"/s","files":[{"exercise":"x","path":"y"}],"surprise":1}`, `not json`} {
		_, err := ParseUnit([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestRunnerRefusesPathsOutsideTheFolder(t *testing.T) {
	r := Runner{}
	_, err := r.submission(Unit{Student: "a", Dir: t.TempDir()}, File{Exercise: "udp-server", Path: "../../etc/passwd"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not inside its folder")
}

func TestRunnerCommandTemplate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "udp-server.py"), []byte("pass\n"), 0o644))
	ex := sockets.UDPServer()
	r := Runner{}
	cases := []struct {
		name    string
		command []string
		want    []string
	}{
		{"default", nil, []string{"/py/python3.11", filepath.Join(dir, "udp-server.py")}},
		{"template", []string{"python3", "-X", "utf8", "{file}", "{args}"}, []string{"/py/python3.11", "-X", "utf8", filepath.Join(dir, "udp-server.py"), "{port}"}},
		{"other interpreter", []string{"pypy3", "{file}"}, []string{"pypy3", filepath.Join(dir, "udp-server.py")}},
	}
	for _, c := range cases {
		sub, err := r.submission(Unit{Student: "a", Dir: dir, Python: "/py/python3.11", Course: Course{ex.ID: {Command: c.command}}}, File{Exercise: ex.ID, Path: "udp-server.py"}, ex)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, sub.Command, c.name)
		assert.Equal(t, "a/udp-server.py", sub.Name)
	}
}
