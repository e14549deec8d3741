package hostile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorpus checks that the corpus holds every behaviour the issue lists,
// each declared, described, and with the limits the tests expect.
func TestCorpus(t *testing.T) {
	all, err := All()
	require.NoError(t, err)
	want := map[string]string{
		"fork-bomb":       "processes",
		"memory-hog":      "memory",
		"endless-output":  "output",
		"ignores-signals": "",
		"setsid-daemon":   "",
		"hostile-output":  "",
		"write-outside":   "",
		"reach-host":      "",
		"stdin-wait":      "",
		"cpu-spinner":     "",
	}
	got := map[string]string{}
	for _, p := range all {
		got[p.Name] = p.Limit
		assert.NotEmpty(t, p.About, "%s says what it does", p.Name)
		assert.True(t, strings.HasSuffix(p.File, ".py"), p.File)
	}
	assert.Equal(t, want, got)
}

func TestSource(t *testing.T) {
	p, err := Get("reach-host")
	require.NoError(t, err)
	assert.Contains(t, string(p.Source(0)), "\nHOST_PORT = 0\n")
	assert.Contains(t, string(p.Source(4321)), "\nHOST_PORT = 4321\n")
	dir := t.TempDir()
	path, err := p.Write(dir, "udp-server.py", 99)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "as students hand files in: no run bit")
	assert.Equal(t, filepath.Join(dir, "udp-server.py"), path)
	_, err = Get("nothing")
	assert.Error(t, err)
}

func TestEscapePaths(t *testing.T) {
	assert.Equal(t, []string{
		"/sub/alice/netgrade-escaped.txt",
		"/sub/netgrade-escaped-alice.txt",
		"/home/u/netgrade-escaped-alice.txt",
		"/tmp/netgrade-escaped-alice.txt",
	}, EscapePaths("/sub/alice", "/home/u"))
}
