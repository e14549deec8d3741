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

// BenchmarkGrade grades each exercise on its reference and on a passing
// Python fixture, and reports each time as a ratio to the exercise's floor:
// one interpreter start plus the waits the checks make by design.
func BenchmarkGrade(b *testing.B) {
	start := interpreterStart(b)
	b.Logf("one python3 start: %s", start.Round(time.Millisecond))
	opt := options()
	for _, ex := range course.Registry().Exercises() {
		floor := start + ex.Floor
		subs := map[string]graders.Submission{
			"reference": {Name: "reference", Command: []string{netgradeBin, "ref", ex.ID}},
		}
		fs, err := fixtures.For(ex.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range fs {
			if f.Pass && (f.Name == "plain.py" || subs["python"].Name == "") {
				path, err := f.Write(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				sub, err := graders.FileSubmission(path)
				if err != nil {
					b.Fatal(err)
				}
				subs["python"] = sub
			}
		}
		for _, kind := range []string{"reference", "python"} {
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
