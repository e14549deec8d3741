package course_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/internal/cost"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
)

// interpreterStart measures one start of the real Python interpreter that
// imports socket and exits: the cost of one program start, in wall time
// and in CPU.
func interpreterStart(b *testing.B) (wall, cpu time.Duration) {
	py, err := pyenv.NewInterpreters().Resolve(context.Background(), "python3")
	if err != nil {
		b.Fatal(err)
	}
	const n = 10
	m := cost.Start()
	for range n {
		if out, err := exec.Command(py, "-c", "import socket, socketserver, logging").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
	u := m.Stop()
	return u.Wall / n, u.Programs / n
}

// passing returns the passing fixture the benchmarks grade for an
// exercise: plain.py when it passes, else the first passing one that needs
// no framework.
func passing(b *testing.B, id string) (fixtures.Fixture, bool) {
	fs, err := fixtures.For(id)
	if err != nil {
		b.Fatal(err)
	}
	var pick fixtures.Fixture
	found := false
	for _, f := range fs {
		if f.Pass && len(f.Requires) == 0 && (f.Name == "plain.py" || !found) {
			pick, found = f, true
		}
	}
	return pick, found
}

// reportCost adds the cost metrics of one measurement to a benchmark:
// wall time against floor, netgrade's own CPU against the programs'.
func reportCost(b *testing.B, u cost.Usage, floor time.Duration) {
	b.ReportMetric(float64(u.Wall.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(floor.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(u.Wall)/float64(floor), "wall/floor")
	b.ReportMetric(float64(u.Own.Milliseconds()), "own-cpu-ms")
	b.ReportMetric(float64(u.Programs.Milliseconds()), "prog-cpu-ms")
	b.ReportMetric(100*u.OwnRatio(), "own/prog-%")
}

// BenchmarkGrade grades each exercise on its reference, on a passing
// Python fixture and on a passing fixture of each framework (rest-api's
// Flask and FastAPI ones, under the interpreter that has it), one grading
// at a time, and reports per grading: the wall time against the
// exercise's floor (one interpreter start plus the waits the checks make by
// design), netgrade's own CPU and the graded programs' CPU (rusage of this
// process and of the children it reaped), and their ratio.
func BenchmarkGrade(b *testing.B) {
	start, startCPU := interpreterStart(b)
	b.Logf("one python3 start: %s wall, %s CPU", start.Round(time.Millisecond), startCPU.Round(time.Millisecond))
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
			sub, ok := subs[kind]
			if !ok {
				continue
			}
			b.Run(ex.ID+"/"+kind, func(b *testing.B) {
				var total cost.Usage
				for b.Loop() {
					m := cost.Start()
					res := ex.Grade(context.Background(), sub, opt)
					total = total.Add(m.Stop())
					if !res.Passed() {
						b.Fatalf("%s on %s did not pass: %+v", ex.ID, kind, res.Checks)
					}
				}
				n := time.Duration(b.N)
				reportCost(b, cost.Usage{Wall: total.Wall / n, Own: total.Own / n, Programs: total.Programs / n}, floor)
			})
		}
	}
}

// dayOne are the exercises of the course's first day, the folder
// BenchmarkCheck grades.
var dayOne = []string{"udp-server", "udp-client", "tcp-server", "tcp-client", "tcp-upper", "tcp-waiting", "tcp-forking", "tcp-threading", "tcp-tickets"}

// BenchmarkCheck runs the real netgrade binary as a student does,
// `netgrade check DIR`, on a folder holding one passing Python fixture per
// day-one exercise under the names the course gives, and reports its wall
// time against its floor (the slowest exercise's floor plus one program
// start: the exercises are graded side by side), netgrade's own CPU and
// the graded programs' CPU, read from the kernel's accounting of the
// netgrade process and of the processes it reaped.
func BenchmarkCheck(b *testing.B) {
	bin, err := sandboxtest.BuildStatic(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	start, _ := interpreterStart(b)
	dir := b.TempDir()
	var slowest time.Duration
	for _, e := range course.Exercises() {
		if !slices.Contains(dayOne, e.Grader.ID) {
			continue
		}
		f, ok := passing(b, e.Grader.ID)
		if !ok {
			b.Fatalf("no passing fixture for %s", e.Grader.ID)
		}
		// As a student hands it in: the course's file name, no run bit.
		if err := os.WriteFile(filepath.Join(dir, e.File), f.Source, 0o644); err != nil {
			b.Fatal(err)
		}
		slowest = max(slowest, e.Grader.Floor)
	}
	floor := slowest + start
	var total cost.Usage
	for b.Loop() {
		cmd := exec.Command(bin, "check", dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		u, err := cost.Run(cmd)
		if err != nil {
			b.Fatalf("netgrade check: %v\n%s", err, out.String())
		}
		total = total.Add(u)
	}
	n := time.Duration(b.N)
	u := cost.Usage{Wall: total.Wall / n, Own: total.Own / n, Programs: total.Programs / n}
	fmt.Printf("\nnetgrade check, %d day-one exercises side by side, %d cores: %s\n", len(dayOne), runtime.NumCPU(), u)
	fmt.Printf("  wall / floor (slowest exercise's floor %.1fs + one start %.2fs): %.2f\n", slowest.Seconds(), start.Seconds(), float64(u.Wall)/float64(floor))
	reportCost(b, u, floor)
}
