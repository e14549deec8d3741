package similarity

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"gotest.tools/v3/assert"
)

// python returns the interpreter the tests tokenize with.
func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1): %v", err)
		}
		t.Skipf("SKIP: no python3 on PATH (apt-get install python3): %v", err)
	}
	return p
}

// classExercise returns the test class as one exercise.
func classExercise(t *testing.T) Exercise {
	t.Helper()
	paths, err := writeClass(t.TempDir())
	assert.NilError(t, err)
	ex := Exercise{ID: "tcp-upper"}
	for id, p := range paths {
		ex.Files = append(ex.Files, File{Student: id, Name: "tcp-upper.py", Path: p})
	}
	sort.Slice(ex.Files, func(i, j int) bool { return ex.Files[i].Student < ex.Files[j].Student })
	return ex
}

func TestPlantedPairs(t *testing.T) {
	py := python(t)
	ex := classExercise(t)
	base := filepath.Join(t.TempDir(), "slides_socketserver.py")
	assert.NilError(t, os.WriteFile(base, []byte(slides), 0o644))
	rep, err := Analyze(context.Background(), []Exercise{ex}, Options{Python: py, Base: []string{base}})
	assert.NilError(t, err)
	all, err := Analyze(context.Background(), []Exercise{ex}, Options{Python: py, Threshold: 0.01})
	assert.NilError(t, err)
	for _, p := range all.Exercises[0].Pairs {
		t.Logf("no base, any: %-14s %-14s %.2f (%.2f %.2f) longest %d", p.A, p.B, p.Similarity, p.ShareA, p.ShareB, p.Longest)
	}
	pairs := rep.Exercises[0].Pairs
	for _, p := range pairs {
		t.Logf("shown: %s %s %.2f longest %d lines %v", p.A, p.B, p.Similarity, p.Longest, p.LongestLines)
	}
	assert.Assert(t, len(pairs) == 2, "the two planted pairs and nothing else: %+v", pairs)
}

func TestPageRenders(t *testing.T) {
	py := python(t)
	ex := classExercise(t)
	rep, err := Analyze(context.Background(), []Exercise{ex}, Options{Python: py})
	assert.NilError(t, err)
	var buf bytes.Buffer
	assert.NilError(t, WritePage(&buf, rep, PageMeta{Version: "test"}))
	os.WriteFile("/tmp/sim27.html", buf.Bytes(), 0o644)
}
