// Package cost measures what a grading costs the machine: the wall time,
// the CPU netgrade itself spends (user and kernel), and the CPU of the
// programs it grades, from the kernel's resource accounting (rusage). The
// programs' CPU is what a grading cannot avoid; netgrade's own CPU should
// be a small fraction of it.
package cost

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Usage is the cost of one piece of work.
type Usage struct {
	Wall time.Duration
	// Own is the CPU of the process that did the work (netgrade).
	Own time.Duration
	// Programs is the CPU of the processes it started and waited for, and
	// of their own waited-for descendants: the graded programs.
	Programs time.Duration
}

// OwnRatio is Own / Programs (0 when no program ran).
func (u Usage) OwnRatio() float64 {
	if u.Programs <= 0 {
		return 0
	}
	return float64(u.Own) / float64(u.Programs)
}

// Add returns the sum of two usages (Wall added too).
func (u Usage) Add(v Usage) Usage {
	return Usage{Wall: u.Wall + v.Wall, Own: u.Own + v.Own, Programs: u.Programs + v.Programs}
}

// String shows the usage as "wall 1.20s, own CPU 0.05s, programs' CPU 0.80s (own/programs 6%)".
func (u Usage) String() string {
	return fmt.Sprintf("wall %.2fs, own CPU %.2fs, programs' CPU %.2fs (own/programs %.0f%%)",
		u.Wall.Seconds(), u.Own.Seconds(), u.Programs.Seconds(), 100*u.OwnRatio())
}

// Meter measures the calling process between Start and Stop: its own CPU
// (RUSAGE_SELF) and that of the children it reaped meanwhile
// (RUSAGE_CHILDREN). Other work the process does meanwhile counts too: use
// it where the work measured is all the process does.
type Meter struct {
	begin      time.Time
	self, kids unix.Rusage
}

// Start starts a measurement.
func Start() *Meter {
	m := &Meter{begin: time.Now()}
	_ = unix.Getrusage(unix.RUSAGE_SELF, &m.self)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &m.kids)
	return m
}

// Stop returns the usage since Start.
func (m *Meter) Stop() Usage {
	var self, kids unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &self)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &kids)
	return Usage{
		Wall:     time.Since(m.begin),
		Own:      cpu(self) - cpu(m.self),
		Programs: cpu(kids) - cpu(m.kids),
	}
}

func cpu(r unix.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// Run runs cmd to its end and returns its usage: Own is the command's own
// CPU, Programs that of every process it waited for. It reads them from
// the command's /proc/PID/stat once it has exited and before it is reaped
// (the kernel keeps both sums apart there, at a resolution of 10 ms). The
// error is cmd's, as from cmd.Run.
func Run(cmd *exec.Cmd) (Usage, error) {
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, err
	}
	pid := cmd.Process.Pid
	var info unix.Siginfo
	var werr error
	for {
		werr = unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(werr, unix.EINTR) {
			break
		}
	}
	u := Usage{Wall: time.Since(begin)}
	var serr error
	if werr == nil {
		u.Own, u.Programs, serr = zombieTimes(pid)
	}
	err := cmd.Wait()
	if werr != nil {
		return u, fmt.Errorf("waiting for %s: %w", cmd.Path, werr)
	}
	if serr != nil {
		return u, serr
	}
	return u, err
}

// zombieTimes reads utime+stime and cutime+cstime of an exited, unreaped
// process.
func zombieTimes(pid int) (own, kids time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the CPU times of %d: %w", pid, err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("short stat line for %d", pid)
	}
	var t [4]time.Duration
	for i := range t {
		n, err := strconv.ParseInt(f[11+i], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("stat of %d: %w", pid, err)
		}
		t[i] = time.Duration(n) * clockTick
	}
	return t[0] + t[1], t[2] + t[3], nil
}
