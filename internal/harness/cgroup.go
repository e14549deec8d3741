package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netgrade/netgrade/internal/poll"
)

// The cgroup v2 interface netgrade uses is a handful of files (cgroup.procs,
// cgroup.kill, cgroup.events, memory.max, pids.max and their events); it is
// read and written directly rather than through a cgroup library, whose
// managers bring systemd, D-Bus and eBPF along for what netgrade does not
// need.

// cgroupParent is a cgroup v2 directory in which netgrade may create a
// cgroup for each program it starts.
type cgroupParent struct {
	// dir is the directory's absolute path.
	dir string
	// memory and pids report whether a child of dir gets the memory and
	// pids controllers (they are in dir's cgroup.subtree_control).
	memory, pids bool
}

// findCgroupParent returns the cgroup v2 directory where netgrade makes
// the cgroups of its programs: its own cgroup, or else (when netgrade may
// write there, as root may) the root of the hierarchy. Of those where
// netgrade may create a cgroup, it prefers one whose children get the
// memory and pids controllers. The error says why there is none.
func findCgroupParent() (*cgroupParent, error) {
	mnt, err := cgroup2Mount("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	own, err := ownCgroup("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	dirs := []string{filepath.Join(mnt, own)}
	if own != "/" {
		dirs = append(dirs, mnt)
	}
	var usable []*cgroupParent
	var errs []error
	for _, d := range dirs {
		probe := filepath.Join(d, fmt.Sprintf("netgrade-probe-%d", os.Getpid()))
		if err := os.Mkdir(probe, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("cannot create a cgroup in %s: %w", d, err))
			continue
		}
		_ = os.Remove(probe)
		ctl, _ := os.ReadFile(filepath.Join(d, "cgroup.subtree_control"))
		fields := strings.Fields(string(ctl))
		p := &cgroupParent{dir: d, memory: contains(fields, "memory"), pids: contains(fields, "pids")}
		if p.memory && p.pids {
			return p, nil
		}
		usable = append(usable, p)
	}
	if len(usable) > 0 {
		return usable[0], nil
	}
	return nil, errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cgroup2Mount returns where the cgroup v2 hierarchy is mounted, read from
// a mountinfo file.
func cgroup2Mount(mountinfo string) (string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", fmt.Errorf("reading the mounts: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) >= 5 && len(sf) >= 1 && sf[0] == "cgroup2" {
			return unescapeMount(pf[4]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading the mounts: %w", err)
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// unescapeMount undoes the octal escapes (\040 for a space) of a mount
// point in mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroup returns the cgroup v2 path of a process, read from its
// /proc/PID/cgroup file (the line "0::PATH").
func ownCgroup(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the cgroup of a process: %w", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			if strings.HasSuffix(p, " (deleted)") {
				return "", fmt.Errorf("netgrade's own cgroup %s was removed", p)
			}
			return p, nil
		}
	}
	return "", errors.New("the process is in no cgroup v2")
}

// cgroup is the cgroup of one program.
type cgroup struct {
	dir string
	// memory and pids say whether its limits are in force.
	memory, pids bool
}

// create makes a cgroup named name under the parent, with the limits the
// parent's controllers allow (memory.max with no swap and the whole group
// killed on out-of-memory; pids.max). A limit it cannot set is left out;
// only a cgroup that cannot be made at all is an error.
func (pa *cgroupParent) create(name string, l Limits) (*cgroup, error) {
	c := &cgroup{dir: filepath.Join(pa.dir, name)}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cgroup %s: %w", c.dir, err)
	}
	if pa.memory && l.Memory > 0 {
		c.memory = c.write("memory.max", strconv.FormatInt(l.Memory, 10)) == nil
		if c.memory {
			// Swap would let the program go past its limit slowly; a killed
			// process would leave the rest of a forking server running.
			_ = c.write("memory.swap.max", "0")
			_ = c.write("memory.oom.group", "1")
		}
	}
	if pa.pids && l.Processes > 0 {
		c.pids = c.write("pids.max", strconv.FormatInt(l.Processes, 10)) == nil
	}
	return c, nil
}

func (c *cgroup) write(file, value string) error {
	return os.WriteFile(filepath.Join(c.dir, file), []byte(value), 0)
}

// open returns a descriptor of the cgroup's directory, for starting a
// program directly in it (SysProcAttr.CgroupFD).
func (c *cgroup) open() (*os.File, error) {
	return os.OpenFile(c.dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

// procs returns the PIDs of the processes in the cgroup.
func (c *cgroup) procs() []int {
	data, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// signal sends sig to every process of the cgroup; SIGKILL kills the whole
// cgroup at once through cgroup.kill (Linux 5.14), so that a process forked
// meanwhile dies too.
func (c *cgroup) signal(sig syscall.Signal) {
	if sig == syscall.SIGKILL && c.write("cgroup.kill", "1") == nil {
		return
	}
	for _, pid := range c.procs() {
		_ = syscall.Kill(pid, sig)
	}
}

// populated reports whether a live process is left in the cgroup.
func (c *cgroup) populated() bool {
	ev, err := readKeyed(filepath.Join(c.dir, "cgroup.events"))
	if err != nil {
		return len(c.procs()) > 0
	}
	return ev["populated"] != 0
}

// hit returns the limit the cgroup's programs ran into, from its event
// counters: the out-of-memory killer, then the pids limit.
func (c *cgroup) hit(l Limits) LimitHit {
	if c.memory {
		if ev, err := readKeyed(filepath.Join(c.dir, "memory.events")); err == nil && (ev["oom_kill"] > 0 || ev["oom_group_kill"] > 0) {
			return LimitHit{Kind: LimitMemory, Value: l.Memory}
		}
	}
	if c.pids {
		if ev, err := readKeyed(filepath.Join(c.dir, "pids.events")); err == nil && ev["max"] > 0 {
			return LimitHit{Kind: LimitProcesses, Value: l.Processes}
		}
	}
	return LimitHit{}
}

// remove deletes the cgroup once its last process is gone; the kernel
// refuses (EBUSY) while one remains, so it retries with internal/poll's
// backoff for at most cgroupRemoveWait.
func (c *cgroup) remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), cgroupRemoveWait)
	defer cancel()
	_, err := poll.Wait(ctx, func(context.Context) poll.Result {
		err := os.Remove(c.dir)
		switch {
		case err == nil || errors.Is(err, os.ErrNotExist):
			return poll.Done()
		case errors.Is(err, syscall.EBUSY):
			return poll.Continue("%v", err)
		}
		return poll.Fail(err)
	})
	if err != nil {
		return fmt.Errorf("removing cgroup %s: %w", c.dir, err)
	}
	return nil
}

// cgroupRemoveWait is how long remove waits for a cgroup's last process
// to be gone.
const cgroupRemoveWait = 2 * time.Second

// holds reports whether the process pid belongs to the cgroup; a zombie
// still names the cgroup it died in.
func (c *cgroup) holds(pid int, mount string) bool {
	p, err := ownCgroup(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && filepath.Join(mount, p) == c.dir
}

// readKeyed reads a flat keyed cgroup file ("key value" lines).
func readKeyed(file string) (map[string]int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}
