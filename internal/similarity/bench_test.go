package similarity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/cost"
)

// benchStudents is the size of the benchmark's class.
const benchStudents = 200

// benchExercises is how many exercises each student hands in.
const benchExercises = 4

// statements are the lines the benchmark's programs are made of: %[1]s
// and %[2]s are names, %[3]d a number.
var statements = []string{
	"%[1]s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
	"%[1]s.bind((\"\", int(sys.argv[1])))",
	"%[1]s.listen(%[3]d)",
	"%[1]s, %[2]s = %[1]s.accept()",
	"%[1]s = %[2]s.recv(%[3]d)",
	"print(\"got\", %[1]s, %[2]s)",
	"%[1]s.sendall(%[2]s.upper())",
	"%[1]s = %[2]s.decode(\"utf-8\").strip()",
	"%[1]s += %[3]d",
	"%[1]s.close()",
	"logging.info(\"%%s\", %[1]s)",
	"%[1]s = len(%[2]s) * %[3]d",
	"%[1]s = %[2]s.encode()",
	"sys.stdout.flush()",
	"%[1]s = %[2]s[%[3]d:]",
	"%[1]s.append(%[2]s)",
	"%[1]s = {}",
	"%[1]s[%[2]s] = %[3]d",
	"time.sleep(%[3]d)",
	"%[1]s = %[2]s.split()",
}

// blocks open an indented block.
var blocks = []string{
	"while True:", "if not %[1]s:", "for %[1]s in %[2]s:", "def %[1]s(%[2]s):", "try:", "with %[1]s:", "if %[1]s > %[3]d:",
}

// program writes a program of its own: statements and blocks drawn at
// random, with names of its own.
func program(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("import socket\nimport sys\n\n")
	name := func() string { return fmt.Sprintf("%c%d", 'a'+rune(r.IntN(26)), r.IntN(10)) }
	line := func(indent int, pool []string) {
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("    ", indent), fmt.Sprintf(pool[r.IntN(len(pool))], name(), name(), r.IntN(100)))
	}
	for range 12 + r.IntN(12) {
		if r.IntN(3) == 0 {
			line(0, blocks)
			for range 1 + r.IntN(4) {
				line(1, statements)
			}
			continue
		}
		line(0, statements)
	}
	return b.String()
}

// benchClass writes a class of benchStudents students, each with
// benchExercises files of their own, five of them copies of another's.
func benchClass(b *testing.B) []ExerciseFiles {
	b.Helper()
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(27, 2003))
	var exs []ExerciseFiles
	for e := range benchExercises {
		ex := ExerciseFiles{ID: fmt.Sprintf("ex%d", e)}
		var srcs []string
		for s := range benchStudents {
			src := program(r)
			if s >= benchStudents-5 {
				src = srcs[r.IntN(len(srcs))] // a copy
			}
			srcs = append(srcs, src)
			p := filepath.Join(dir, fmt.Sprintf("s%03d", s), ex.ID+".py")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
			ex.Files = append(ex.Files, File{Student: fmt.Sprintf("s%03d", s), Name: ex.ID + ".py", Path: p})
		}
		exs = append(exs, ex)
	}
	return exs
}

// BenchmarkClass200 is the similarity analysis of a 200-student class
// with four exercises (`make bench`): every pair of each exercise, through
// the fingerprint index.
func BenchmarkClass200(b *testing.B) {
	py := python(b)
	exs := benchClass(b)
	b.ResetTimer()
	var rep *Report
	m := cost.Start()
	for b.Loop() {
		var err error
		if rep, err = Analyze(context.Background(), exs, Options{Python: py}); err != nil {
			b.Fatal(err)
		}
	}
	use := m.Stop()
	b.StopTimer()
	n := time.Duration(b.N)
	files, compared, shown, possible := 0, 0, 0, 0
	for _, e := range rep.Exercises {
		files += e.Files
		compared += e.Compared
		shown += len(e.Pairs)
		possible += e.Files * (e.Files - 1) / 2
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(compared), "pairs-compared")
	b.ReportMetric(float64(shown), "pairs-shown")
	fmt.Printf("similarity, %d students x %d exercises: %d files, %d of %d pairs compared, %d shown\n"+
		"  a class: wall %.2f s, comparing (netgrade's CPU) %.2f s, Python's tokenizer (CPU) %.2f s\n",
		benchStudents, benchExercises, files, compared, possible, shown, (use.Wall / n).Seconds(), (use.Own / n).Seconds(), (use.Programs / n).Seconds())
}
