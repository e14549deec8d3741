package interop_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/cost"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/sandbox"
	"github.com/netgrade/netgrade/internal/sandbox/sandboxtest"
	"gotest.tools/v3/assert"
)

// benchClass is a class of n students for the figures: two in three hand
// in passing programs (each exercise's passing fixtures in turn), the
// others one failing fixture among passing ones.
func benchClass(t testing.TB, n int) []classStudent {
	t.Helper()
	var pass, fail [5][]string
	for i, ex := range exercises {
		fs, err := fixtures.For(ex)
		assert.NilError(t, err)
		for _, f := range fs {
			if len(f.Requires) > 0 {
				continue
			}
			if f.Pass {
				pass[i] = append(pass[i], f.Name)
			} else {
				fail[i] = append(fail[i], f.Name)
			}
		}
	}
	var out []classStudent
	for i := range n {
		s := classStudent{id: fmt.Sprintf("s%02d", i)}
		for j := range exercises {
			s.files[j] = pass[j][(i+j)%len(pass[j])]
		}
		if i%3 == 2 {
			j := (i / 3) % len(exercises)
			s.files[j] = fail[j][(i/3/len(exercises))%len(fail[j])]
		}
		out = append(out, s)
	}
	return out
}

// BenchmarkClass runs the three matrices of a generated class
// (NETGRADE_INTEROP_STUDENTS, default 24) in a sandbox
// (NETGRADE_INTEROP_SANDBOX: process, the default, or netns) and reports
// the cells, the wall time, and the CPU spent (netgrade's and the
// programs') against the floor: the programs started, each at the CPU of
// one Python start.
func BenchmarkClass(b *testing.B) {
	n := 24
	if v := os.Getenv("NETGRADE_INTEROP_STUDENTS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		assert.NilError(b, err)
	}
	kind := os.Getenv("NETGRADE_INTEROP_SANDBOX")
	// newSandbox makes the sandbox of one run: it is closed before the
	// run's cost is read, as the netns sandbox's pair runners serve many
	// cells and their CPU (and that of the programs they reaped) reaches
	// this process's rusage only once they have ended.
	var newSandbox func() sandbox.Sandbox
	switch kind {
	case "", sandbox.Process:
		kind = sandbox.Process
		newSandbox = func() sandbox.Sandbox { return sandbox.NewProcess(nil, nil) }
	case sandbox.Netns:
		// As netgrade interop does: python3 resolved once, here, rather
		// than by the pair runner of every cell (a pyenv shim costs a
		// Python start of its own).
		sandboxtest.Require(b, "netns", sandbox.NetnsAvailable(context.Background(), bin))
		py, err := pyenv.NewInterpreters().Resolve(context.Background(), "python3")
		assert.NilError(b, err)
		newSandbox = func() sandbox.Sandbox { return sandbox.NewNetns(bin, py) }
	case sandbox.Docker:
		// The containers' CPU is not this process's: only the cells and
		// the wall time mean something.
		newSandbox = func() sandbox.Sandbox { return sandboxtest.Docker(b, bin).Sandbox }
	default:
		b.Fatalf("NETGRADE_INTEROP_SANDBOX=%s: process, netns or docker", kind)
	}
	// NETGRADE_INTEROP_PAIRS=udp runs only the UDP pair.
	var pairs []interop.ExercisePair
	if os.Getenv("NETGRADE_INTEROP_PAIRS") == "udp" {
		pairs = interop.Pairs()[:1]
	}
	start := pythonStart(b)
	for range b.N {
		subs, out := b.TempDir(), b.TempDir()
		students := writeClass(b, subs, benchClass(b, n))
		sb := newSandbox()
		m := cost.Start()
		res, err := interop.Run(context.Background(), students, interop.Options{
			Out: out, Pairs: pairs, Sandbox: sb, Env: interop.Env{Reference: env.Reference, Interpreters: pyenv.NewInterpreters(), Ports: harness.NewPorts(uint64(time.Now().UnixNano()))},
			Jobs: 8, Version: "bench", LogLine: `[{asctime}] client {ip} sent "{message}"`,
		})
		assert.NilError(b, sb.Close())
		u := m.Stop()
		assert.NilError(b, err)
		cells, starts := 0, 0
		colours := map[interop.Verdict]int{}
		for _, mx := range res.Matrices {
			for _, c := range mx.Cells {
				cells++
				colours[c.Verdict]++
				if c.From != "" {
					continue // not run
				}
				for _, side := range []string{c.Client, c.Server} {
					if side != interop.RefKey {
						starts++
					}
				}
			}
		}
		// NETGRADE_INTEROP_VERDICTS=FILE keeps every cell's verdict, to
		// compare two runs (another sandbox, a second run) with diff.
		if path := os.Getenv("NETGRADE_INTEROP_VERDICTS"); path != "" {
			var lines []string
			for k, v := range verdicts(res.Matrices) {
				lines = append(lines, k+" "+v)
			}
			slices.Sort(lines)
			assert.NilError(b, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
			// FILE.reasons holds each cell's reason too, to explain a
			// cell that differs once the run's folder is gone.
			lines = lines[:0]
			for _, mx := range res.Matrices {
				for _, c := range mx.Cells {
					lines = append(lines, fmt.Sprintf("%s %s %s %s/%s %s", mx.Pair.ID(), c.Client, c.Server, c.Verdict, c.Diagnosis, c.Reason))
				}
			}
			slices.Sort(lines)
			assert.NilError(b, os.WriteFile(path+".reasons", []byte(strings.Join(lines, "\n")+"\n"), 0o644))
		}
		floor := time.Duration(starts) * start
		cpu := u.Own + u.Programs
		fmt.Printf("%d students, sandbox %s, -j 8: %d cells (%d run, %d grey from the reference's cell; %d green, %d amber, %d red, %d grey)\n",
			n, kind, cells, res.Ran, res.Copied, colours[interop.Green], colours[interop.Amber], colours[interop.Red], colours[interop.Grey])
		fmt.Printf("  wall %.1fs; CPU %.1fs (netgrade %.1fs, programs %.1fs); floor %.1fs (%d program starts × %.0f ms); CPU / floor %.2f\n",
			u.Wall.Seconds(), cpu.Seconds(), u.Own.Seconds(), u.Programs.Seconds(), floor.Seconds(), starts, float64(start)/float64(time.Millisecond), float64(cpu)/float64(floor))
	}
}

// pythonStart is the CPU of one start of a Python program that imports
// what the exercises' programs import and ends: the median of 15.
func pythonStart(b *testing.B) time.Duration {
	py, err := pyenv.NewInterpreters().Resolve(context.Background(), "python3")
	assert.NilError(b, err)
	var ds []time.Duration
	for range 15 {
		cmd := exec.Command(py, "-c", "import socket, sys, logging, socketserver")
		assert.NilError(b, cmd.Run())
		st := cmd.ProcessState
		ds = append(ds, st.UserTime()+st.SystemTime())
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return ds[len(ds)/2]
}
