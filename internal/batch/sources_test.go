package batch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/internal/sandbox"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"
)

func TestKeepSources(t *testing.T) {
	out := t.TempDir()
	v1 := fs.NewDir(t, "v1", fs.WithDir("python", fs.WithFile("server.py", "v1 server")), fs.WithFile("client.py", "v1 client"))
	v2 := fs.NewDir(t, "v2", fs.WithFile("server.py", "v2 server"))

	files := []sandbox.File{{Exercise: "tcp-server", Path: "python/server.py"}, {Exercise: "tcp-client", Path: "client.py"}, {Exercise: "udp-server"}}
	assert.NilError(t, keepSources(out, "ann", v1.Path(), files))
	for path, want := range map[string]string{"python/server.py": "v1 server", "client.py": "v1 client"} {
		data, err := os.ReadFile(SourcePath(out, "ann", path))
		assert.NilError(t, err)
		assert.Equal(t, string(data), want)
	}

	// Graded again with other files: only those are kept.
	assert.NilError(t, keepSources(out, "ann", v2.Path(), []sandbox.File{{Exercise: "tcp-server", Path: "server.py"}}))
	assert.Assert(t, fs.Equal(filepath.Join(out, sourcesDir, "ann"), fs.Expected(t, fs.WithFile("server.py", "v2 server"), fs.MatchAnyFileMode)))

	// A merge carries them over; an output without them is no error.
	dest := t.TempDir()
	assert.NilError(t, copySources(out, dest, "ann"))
	assert.NilError(t, copySources(out, dest, "bob"))
	assert.Assert(t, fs.Equal(filepath.Join(dest, sourcesDir), fs.Expected(t, fs.MatchAnyFileMode,
		fs.WithDir("ann", fs.MatchAnyFileMode, fs.WithFile("server.py", "v2 server", fs.MatchAnyFileMode)))))

	// A file that went away between finding and keeping is an error.
	err := keepSources(out, "ann", v2.Path(), []sandbox.File{{Exercise: "tcp-client", Path: "gone.py"}})
	assert.ErrorContains(t, err, "keeping the files of ann")
}
