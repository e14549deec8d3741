package course_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/internal/capture"
	"github.com/netgrade/netgrade/internal/cost"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
)

// BenchmarkCheckCapture runs a student's `netgrade check` of the day-one
// exercises without and with --capture, one after the other in each
// round, and reports both and what capturing adds: the wall time and
// netgrade's own CPU (the bound: at most 10 % more of each), over
// all rounds and round by round (their spread is the noise of the
// machine's load, shown before and after).
func BenchmarkCheckCapture(b *testing.B) {
	tap, err := capture.Open()
	if err != nil {
		if errors.Is(err, capture.ErrNotPermitted) {
			b.Skipf("SKIPPED: %v", err)
		}
		b.Fatal(err)
	}
	tap.Close()
	bin, err := sandboxtest.BuildStatic(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for _, e := range course.Exercises() {
		if !slices.Contains(dayOne, e.Grader.ID) {
			continue
		}
		f, ok := passing(b, e.Grader.ID)
		if !ok {
			b.Fatalf("no passing fixture for %s", e.Grader.ID)
		}
		if err := os.WriteFile(filepath.Join(dir, e.File), f.Source, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	caps := filepath.Join(b.TempDir(), "captures")
	var plain, captured cost.Usage
	var rounds []string
	load := loadAverage()
	run := func(args ...string) cost.Usage {
		cmd := exec.Command(bin, append([]string{"check", dir}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		u, err := cost.Run(cmd)
		if err != nil {
			b.Fatalf("netgrade check %v: %v\n%s", args, err, out.String())
		}
		return u
	}
	for b.Loop() {
		p := run()
		c := run("--capture", caps)
		plain, captured = plain.Add(p), captured.Add(c)
		rounds = append(rounds, fmt.Sprintf("%+.0f %%", 100*(float64(c.Own)/float64(p.Own)-1)))
	}
	n := time.Duration(b.N)
	p := cost.Usage{Wall: plain.Wall / n, Own: plain.Own / n, Programs: plain.Programs / n}
	c := cost.Usage{Wall: captured.Wall / n, Own: captured.Own / n, Programs: captured.Programs / n}
	files, _ := os.ReadDir(caps)
	var size int64
	for _, f := range files {
		if info, err := f.Info(); err == nil {
			size += info.Size()
		}
	}
	fmt.Printf("\nnetgrade check, %d day-one exercises, without --capture: %s\n", len(dayOne), p)
	fmt.Printf("netgrade check, the same with --capture:         %s (%d captures, %d KiB)\n", c, len(files), size>>10)
	fmt.Printf("  capturing adds %+.1f %% wall time and %+.1f %% of netgrade's own CPU (round by round: %s)\n",
		100*(float64(c.Wall)/float64(p.Wall)-1), 100*(float64(c.Own)/float64(p.Own)-1), strings.Join(rounds, ", "))
	fmt.Printf("  load average before: %s, after: %s\n", load, loadAverage())
	b.ReportMetric(float64(p.Wall.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(c.Wall.Milliseconds()), "capture-wall-ms")
	b.ReportMetric(float64(p.Own.Milliseconds()), "own-cpu-ms")
	b.ReportMetric(float64(c.Own.Milliseconds()), "capture-own-cpu-ms")
}

// loadAverage returns the machine's load averages over 1, 5 and 15
// minutes ("?" where the kernel does not say).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
