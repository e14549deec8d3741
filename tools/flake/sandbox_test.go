package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/coursefile"
	"github.com/netgrade/netgrade/internal/samples"
)

// TestSandboxClasses checks how fixtures become the students of sandboxed
// batches: a fixture that names course texts is graded under a course file
// that sets them on its exercise (and that netgrade reads), the others
// under the default course; each student folder holds the fixture under
// the course's file name.
func TestSandboxClasses(t *testing.T) {
	ex, err := course.Registry().Get("http-server")
	require.NoError(t, err)
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "static_x.py")
	require.NoError(t, os.MkdirAll(filepath.Dir(src), 0o755))
	require.NoError(t, os.WriteFile(src, []byte("print('x')\n"), 0o644))
	with := &job{Sample: &samples.Sample{ID: "http-server/static_x.py", Job: graders.Job{
		Exercise: ex, Submission: graders.Submission{File: src},
		Course: graders.Settings{Texts: map[string]string{"static": "public"}},
	}}}
	without := &job{Sample: &samples.Sample{ID: "http-server/plain.py", Job: graders.Job{
		Exercise: ex, Submission: graders.Submission{File: src},
	}}}
	require.Empty(t, textsKey(without))
	require.NotEmpty(t, textsKey(with))

	ids := []string{"http-server"}
	c, err := coursefile.Parse("flake.yaml", courseYAML(ids, course.Files(), with), course.Registry())
	require.NoError(t, err)
	require.Equal(t, "public", c.Settings("http-server").Texts["static"])

	folder := filepath.Join(dir, "class", "student")
	require.NoError(t, handIn(src, folder, "http-server.py"))
	got, err := os.ReadFile(filepath.Join(folder, "http-server.py"))
	require.NoError(t, err)
	require.Equal(t, "print('x')\n", string(got))
}
