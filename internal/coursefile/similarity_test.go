package coursefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/netgrade/netgrade/course"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestSimilaritySetting(t *testing.T) {
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "slides.py"), []byte("import socketserver\n"), 0o644))
	assert.NilError(t, os.Mkdir(filepath.Join(dir, "template"), 0o755))
	name := filepath.Join(dir, "course.yaml")
	exercises := "exercises:\n  - id: udp-server\n    file: udp-server.py\n"
	for _, tc := range []struct {
		name, src string
		want      Similarity
		err       string
	}{
		{name: "unset", src: exercises},
		{name: "one base file and a threshold", src: "similarity:\n  base: slides.py\n  threshold: 0.6\n" + exercises,
			want: Similarity{Base: []string{filepath.Join(dir, "slides.py")}, Threshold: 0.6}},
		{name: "a list", src: "similarity:\n  base: [slides.py]\n" + exercises,
			want: Similarity{Base: []string{filepath.Join(dir, "slides.py")}}},
		{name: "a missing file", src: "similarity:\n  base: [nope.py]\n" + exercises,
			err: "course.yaml:2:10: similarity.base names a file of code every student was given, relative to the course file; nope.py is not a file"},
		{name: "a folder", src: "similarity:\n  base: template\n" + exercises,
			err: "course.yaml:2:9: similarity.base names a file"},
		{name: "a threshold above 1", src: "similarity:\n  threshold: 50\n" + exercises,
			err: "course.yaml:2:14: similarity.threshold is a share of the two files' code, above 0 and at most 1 (0.5: half), not 50"},
		{name: "an unknown key", src: "similarity:\n  k: 5\n" + exercises, err: "course.yaml:2:3: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(name, []byte(tc.src), course.Registry())
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(tc.want, c.Similarity))
		})
	}
}
