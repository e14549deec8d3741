package similarity

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/netgrade/netgrade/internal/report"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// python returns the interpreter the tests tokenize with, or skips (fails
// when NETGRADE_REQUIRE_PYTHON=1).
func python(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("NETGRADE_REQUIRE_PYTHON") == "1" {
			t.Fatalf("python3 is required (NETGRADE_REQUIRE_PYTHON=1): %v", err)
		}
		t.Skipf("SKIP: python3 is unavailable on this machine (no python3 on PATH (apt-get install python3)): %v", err)
	}
	return p
}

// classExercise returns the test class as one exercise.
func classExercise(t testing.TB) ExerciseFiles {
	t.Helper()
	paths, err := writeClass(t.TempDir())
	assert.NilError(t, err)
	ex := ExerciseFiles{ID: "tcp-upper"}
	for id, p := range paths {
		ex.Files = append(ex.Files, File{Student: id, Name: "tcp-upper.py", Path: p})
	}
	sort.Slice(ex.Files, func(i, j int) bool { return ex.Files[i].Student < ex.Files[j].Student })
	return ex
}

// pairNames returns the pairs as "a+b".
func pairNames(ps []Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.A+"+"+p.B)
	}
	return out
}

func TestPlantedPairs(t *testing.T) {
	py := python(t)
	ex := classExercise(t)
	base := filepath.Join(t.TempDir(), "slides_socketserver.py")
	assert.NilError(t, os.WriteFile(base, []byte(slides), 0o644))
	for _, tc := range []struct {
		name  string
		base  []string
		pairs []string
	}{
		{name: "the slides' example declared as base code", base: []string{base},
			pairs: []string{"ana+ana-renamed", "fay+fay-reordered"}},
		{name: "nothing declared: the slides' example is a shared fragment like any other",
			pairs: []string{"ana+ana-renamed", "fay+fay-reordered", "gus+hal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: py, Base: tc.base})
			assert.NilError(t, err)
			assert.Equal(t, len(rep.Exercises), 1)
			er := rep.Exercises[0]
			assert.Equal(t, er.Files, 10)
			assert.DeepEqual(t, pairNames(er.Pairs), tc.pairs)
			for _, p := range er.Pairs {
				t.Logf("%s+%s: %.2f (%.2f, %.2f), longest %d tokens", p.A, p.B, p.Similarity, p.ShareA, p.ShareB, p.Longest)
				assert.Check(t, p.Text)
				assert.Check(t, p.Similarity >= DefaultThreshold, "%s+%s: %.2f", p.A, p.B, p.Similarity)
				assert.Check(t, p.Longest >= K+Window-1, "%s+%s: the longest fragment is %d tokens", p.A, p.B, p.Longest)
			}
			// The renamed copy is the same program token for token.
			assert.Check(t, er.Pairs[0].ShareA > 0.95 && er.Pairs[0].ShareB > 0.95, "%+v", er.Pairs[0])
		})
	}

	// Every pair, however low: the planted pairs rank first, and no pair
	// written apart comes near the threshold.
	rep, err := Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: py, Base: []string{base}, Threshold: 0.001})
	assert.NilError(t, err)
	ps := rep.Exercises[0].Pairs
	for _, p := range ps {
		t.Logf("%s+%s: %.2f (%.2f, %.2f), longest %d tokens", p.A, p.B, p.Similarity, p.ShareA, p.ShareB, p.Longest)
	}
	assert.Assert(t, len(ps) > 2)
	assert.DeepEqual(t, pairNames(ps[:2]), []string{"ana+ana-renamed", "fay+fay-reordered"})
	for _, p := range ps[2:] {
		assert.Check(t, p.Similarity < DefaultThreshold/2, "%s+%s written apart: %.2f", p.A, p.B, p.Similarity)
		if p.A == "gus" && p.B == "hal" {
			assert.Check(t, p.Similarity < 0.1, "gus and hal share only the base code: %.2f", p.Similarity)
		}
	}
}

// seq returns n tokens named by prefix and index.
func seq(prefix string, n int) []Token {
	var out []Token
	for i := range n {
		out = append(out, Token{Text: fmt.Sprintf("%s%d", prefix, i), Line: 1 + i, EndLine: 1 + i, EndCol: 1})
	}
	return out
}

// withShared returns a file of own tokens with the shared ones in the
// middle.
func withShared(own string, shared []Token) []Token {
	out := seq(own+"-head-", 30)
	out = append(out, shared...)
	return append(out, seq(own+"-tail-", 30)...)
}

func TestWinnowingGuarantee(t *testing.T) {
	for _, tc := range []struct {
		shared int
		found  bool
	}{
		{shared: K - 1, found: false},
		{shared: K + Window - 1, found: true},
		{shared: 40, found: true},
		{shared: 200, found: true},
	} {
		t.Run(fmt.Sprint(tc.shared), func(t *testing.T) {
			shared := seq("x", tc.shared)
			for i := range shared {
				shared[i].Line, shared[i].EndLine = 100+i, 100+i
			}
			files := []source{{File: File{Student: "a"}, toks: withShared("a", shared)}, {File: File{Student: "b"}, toks: withShared("b", shared)}}
			for i := range files {
				prepare(&files[i], nil)
			}
			ps, _ := pairs(files, 0.01)
			assert.Equal(t, len(ps), map[bool]int{true: 1, false: 0}[tc.found])
			p := compare(files, 0, 1)
			if !tc.found {
				assert.Equal(t, p.Longest, 0)
				return
			}
			assert.Equal(t, p.Longest, tc.shared, "the whole shared run is one fragment")
			want := float64(tc.shared) / float64(tc.shared+60)
			assert.Check(t, is.Equal(fmt.Sprintf("%.3f", p.Similarity), fmt.Sprintf("%.3f", want)))
			assert.Equal(t, p.Fragments[0].A, Span{Line: 100, EndLine: 100 + tc.shared - 1, EndCol: 1})
			assert.Equal(t, p.Fragments[0].B, p.Fragments[0].A)
		})
	}
}

// result is a graded result: the checks failed, and per check what the
// program printed.
func result(failed []string, printed map[string]string) *report.Result {
	res := &report.Result{Exercise: "tcp-upper"}
	for _, id := range []string{"tcp-upper/starts", "tcp-upper/upper", "tcp-upper/usage"} {
		c := report.Check{ID: id, Status: report.Pass}
		for _, f := range failed {
			if f == id {
				c.Status = report.Fail
			}
		}
		if s, ok := printed[id]; ok {
			c.Transcript = []report.Event{{Kind: report.EvStdout, Data: s}}
		}
		res.Checks = append(res.Checks, c)
	}
	return res
}

func TestBehaviourWitness(t *testing.T) {
	const upper = "tcp-upper/upper"
	rare := "Got it!!! sending back 1234 bytes"
	common := "Connection from 127.0.0.1 port 40000"
	var files []source
	add := func(id string, res *report.Result) {
		files = append(files, source{File: File{Student: id, Result: res}})
	}
	// Two programs fail the same check with the same unusual line (their
	// numbers differ: ports and counts are not evidence).
	add("p1", result([]string{upper}, map[string]string{upper: rare}))
	add("p2", result([]string{upper}, map[string]string{upper: strings.Replace(rare, "1234", "99", 1)}))
	// The same line, but failing other checks too.
	add("p3", result([]string{upper, "tcp-upper/usage"}, map[string]string{upper: "another rare line, quite long"}))
	add("p4", result([]string{upper}, map[string]string{upper: "another rare line, quite long"}))
	// A line many programs print, failing or not.
	for i := range 6 {
		failed := []string{}
		if i < 2 {
			failed = []string{"tcp-upper/usage"}
		}
		add(fmt.Sprintf("c%d", i), result(failed, map[string]string{upper: common, "tcp-upper/usage": "Usage: tcp-upper.py PORT"}))
	}
	got := behaviour(files)
	assert.Equal(t, len(got), 1, "%v", got)
	ev := got[[2]int{0, 1}]
	assert.DeepEqual(t, ev, []Evidence{{Check: upper, Output: rare, Students: 2}})
}

func TestNotPythonComparedAsText(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	text := "The server listens on a port.\nEach client gets its line back, upper-cased, then the connection closes.\n" +
		"Without a port it prints a usage line and exits with status one.\n"
	broken := "def f(:\n    s = '''never closed\n" + strings.Repeat("x = 1\n", 20)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		assert.NilError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	ex := ExerciseFiles{ID: "notes", Files: []File{
		{Student: "a", Name: "notes.txt", Path: write("a.txt", text)},
		{Student: "b", Name: "NOTES.TXT", Path: write("b.txt", strings.ToUpper(strings.ReplaceAll(text, " ", "   ")))},
		{Student: "c", Name: "broken.py", Path: write("c.py", broken)},
		{Student: "d", Name: "broken.py", Path: write("d.py", broken)},
		{Student: "e", Name: "huge.py", Path: write("e.py", strings.Repeat("x = [1, 2, 3]  # padding\n", 20000))},
	}}
	rep, err := Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: py})
	assert.NilError(t, err)
	er := rep.Exercises[0]
	assert.Equal(t, er.AsText, 3, "Python's tokenizer refuses the unterminated string; a huge file is read as text")
	assert.DeepEqual(t, pairNames(er.Pairs), []string{"c+d", "a+b"})
	for _, p := range er.Pairs {
		assert.Equal(t, p.Similarity, 1.0, "%s+%s", p.A, p.B)
	}
}

func TestCSV(t *testing.T) {
	rep := &Report{Exercises: []ExerciseReport{{Exercise: "tcp-upper", Pairs: []Pair{
		{A: "=cmd()", FileA: "a.py", B: "bob", FileB: "b.py", Similarity: 0.91, ShareA: 0.9, ShareB: 0.92, Longest: 80,
			LongestLines: [2]string{"3-20", "5-22"}, Text: true, Behaviour: []Evidence{{Check: "tcp-upper/upper", Output: "+odd", Students: 2}}},
	}}}}
	data, err := CSV(rep)
	assert.NilError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	assert.NilError(t, err)
	assert.DeepEqual(t, rows, [][]string{
		{"exercise", "student_a", "file_a", "student_b", "file_b", "similarity", "share_a", "share_b", "longest_fragment_tokens", "lines_a", "lines_b", "text_match", "same_rare_output"},
		{"tcp-upper", "'=cmd()", "a.py", "bob", "b.py", "0.91", "0.90", "0.92", "80", "3-20", "5-22", "true", "tcp-upper/upper: +odd"},
	})
}

func TestTokenizerNotFound(t *testing.T) {
	ex := ExerciseFiles{ID: "x", Files: []File{{Student: "a", Name: "a.py", Path: filepath.Join("testdata", "missing.py")}}}
	_, err := Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: "python3"})
	assert.ErrorContains(t, err, "reading testdata/missing.py")
	dir := t.TempDir()
	p := filepath.Join(dir, "a.py")
	assert.NilError(t, os.WriteFile(p, []byte("x = 1\n"), 0o644))
	ex.Files[0].Path = p
	_, err = Analyze(context.Background(), []ExerciseFiles{ex}, Options{Python: filepath.Join(dir, "no-python")})
	assert.ErrorContains(t, err, "to tokenize the files")
}
