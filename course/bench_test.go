package course_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/harness"
)

// interpreterStart measures one start of the real Python interpreter that
// imports socket and exits: the cost of one program start.
func interpreterStart(b *testing.B) time.Duration {
	py, err := harness.NewInterpreters().Resolve(context.Background(), "python3")
	if err != nil {
		b.Fatal(err)
	}
	const n = 10
	begin := time.Now()
	for range n {
		if out, err := exec.Command(py, "-c", "import socket, socketserver, logging").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	return time.Since(begin) / n
}

// BenchmarkGrade grades each exercise on its reference, on a passing
// Python fixture and on a passing fixture of each framework (rest-api's
// Flask and FastAPI ones), and reports each time as a ratio to the exercise's floor:
// one interpreter start plus the waits the checks make by design.
func BenchmarkGrade(b *testing.B) {
	start := interpreterStart(b)
	b.Logf("one python3 start: %s", start.Round(time.Millisecond))
	opt := options()
	pythons := fixtures.NewPythons()
	for _, ex := range course.Registry().Exercises() {
		floor := start + ex.Floor
		subs := map[string]graders.Submission{
			"reference": {Name: "reference", Command: []string{netgradeBin, "ref", ex.ID}},
		}
		fs, err := fixtures.For(ex.ID)
		if err != nil {
			b.Fatal(err)
		}
		kinds := []string{"reference", "python"}
		for _, f := range fs {
			// A plain-Python fixture is "python"; the first passing fixture
			// of each framework is graded too, named by it ("flask"),
			// under the interpreter that has it.
			kind := "python"
			if len(f.Requires) > 0 {
				kind = f.Requires[0]
			}
			if !f.Pass || (subs[kind].Name != "" && (kind != "python" || f.Name != "plain.py")) {
				continue
			}
			path, err := f.Write(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			sub, err := graders.FileSubmission(path)
			if err != nil {
				b.Fatal(err)
			}
			if len(f.Requires) > 0 {
				py, err := pythons.For(context.Background(), f.Requires)
				if err != nil {
					b.Logf("%s: %v", f.ID(), err)
					continue
				}
				sub.Command[0] = py
			}
			if subs[kind].Name == "" && kind != "python" {
				kinds = append(kinds, kind)
			}
			subs[kind] = sub
		}
		for _, kind := range kinds {
			sub := subs[kind]
			b.Run(ex.ID+"/"+kind, func(b *testing.B) {
				for b.Loop() {
					res := ex.Grade(context.Background(), sub, opt)
					if !res.Passed() {
						b.Fatalf("%s on %s did not pass: %+v", ex.ID, kind, res.Checks)
					}
				}
				per := b.Elapsed() / time.Duration(b.N)
				b.ReportMetric(float64(floor.Milliseconds()), "floor-ms")
				b.ReportMetric(float64(per)/float64(floor), "x-floor")
			})
		}
	}
}
