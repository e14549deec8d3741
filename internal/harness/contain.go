package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"github.com/netgrade/netgrade/internal/observe"
	"github.com/netgrade/netgrade/internal/proctree"
)

// How a program's processes are held together, so that Stop ends every
// one of them whatever they do.
const (
	// ContainCgroup: the program runs in a cgroup v2 of its own, from its
	// first instruction; every process it starts is in it, and Stop kills
	// the cgroup whole (cgroup.kill).
	ContainCgroup = "cgroup"
	// ContainSubreaper: netgrade is the child subreaper of everything it
	// starts (PR_SET_CHILD_SUBREAPER), so that a process whose parent dies
	// (a double-forked daemon) is re-parented to netgrade instead of PID 1;
	// Stop kills the program's process group, its descendants and those
	// orphans, which carry the program's mark in their environment.
	ContainSubreaper = "subreaper"
	// ContainGroup: neither, only the process group and the descendants
	// found in /proc (and marked processes found anywhere).
	ContainGroup = "process-group"
)

// markVar is the environment variable that marks every process of a
// program with the program's identity: an orphan re-parented to netgrade
// is attributed to its program by it. It is inherited through fork and
// exec; only a program that deliberately empties its environment before
// exec'ing loses it (the netns and docker sandboxes contain those too).
const markVar = "NETGRADE_PROGRAM"

// Enforced says how one limit is applied to a program.
type Enforced struct {
	// Value is the limit (bytes or processes); 0 when none applies.
	Value int64
	// By names the mechanism: "cgroup", "rlimit" or "netgrade"; empty
	// when the limit is not in force.
	By string
	// Why says why a limit is not in force, or how it is weaker.
	Why string
}

// Containment says how a program is contained and limited: for the report
// and --verbose.
type Containment struct {
	// Kind is ContainCgroup, ContainSubreaper or ContainGroup.
	Kind string
	// Cgroup is the program's cgroup (Kind ContainCgroup).
	Cgroup string
	// Fallback says why no cgroup was used (Kind other than ContainCgroup).
	Fallback string
	// Memory, Processes and Output are the program's limits.
	Memory, Processes, Output Enforced
}

// String describes the containment in one line.
func (c Containment) String() string {
	var b strings.Builder
	switch c.Kind {
	case ContainCgroup:
		fmt.Fprintf(&b, "cgroup %s, killed whole", c.Cgroup)
	case ContainSubreaper:
		b.WriteString("subreaper: process group, descendants and orphans re-parented to netgrade")
	default:
		b.WriteString("process group and descendants")
	}
	if c.Fallback != "" {
		fmt.Fprintf(&b, " (no cgroup: %s)", c.Fallback)
	}
	b.WriteString("; memory ")
	b.WriteString(c.Memory.describe(func(v int64) string { return Bytes(v) }))
	b.WriteString("; processes ")
	b.WriteString(c.Processes.describe(func(v int64) string { return strconv.FormatInt(v, 10) }))
	b.WriteString("; output ")
	b.WriteString(c.Output.describe(func(v int64) string { return Bytes(v) + " a stream" }))
	return b.String()
}

func (e Enforced) describe(value func(int64) string) string {
	if e.By == "" {
		if e.Why != "" {
			return "unlimited (" + e.Why + ")"
		}
		return "unlimited"
	}
	s := value(e.Value) + " by " + e.By
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// supervisor is netgrade's containment of the programs it starts. It is
// one per netgrade process, because what it stands for is: being a child
// subreaper is an attribute of the process (PR_SET_CHILD_SUBREAPER), and
// the cgroup where programs go is netgrade's own.
type supervisor struct {
	self      int
	subreaper error
	parent    *cgroupParent
	mount     string
	cgroupErr error
	// refused is set when the kernel refused to start a program in its
	// cgroup: later programs do not try again.
	refused atomic.Pointer[string]
	seq     atomic.Int64
	// nproc is nil when RLIMIT_NPROC binds the programs (a user other than
	// root without CAP_SYS_RESOURCE or CAP_SYS_ADMIN, whose processes
	// netgrade can count), else why not.
	nproc error
	// shared are the limits of the cgroup netgrade runs in.
	shared sharedLimits
}

var (
	supOnce sync.Once
	sup     *supervisor
)

// theSupervisor sets up netgrade's containment on first use and returns it.
func theSupervisor() *supervisor {
	supOnce.Do(func() {
		s := &supervisor{self: os.Getpid()}
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			s.subreaper = fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
		}
		s.parent, s.cgroupErr = findCgroupParent()
		if s.parent != nil {
			s.mount, s.cgroupErr = cgroup2Mount("/proc/self/mountinfo")
			if s.cgroupErr != nil {
				s.parent = nil
			}
		}
		s.nproc = nprocBinds()
		s.shared = findSharedLimits("/proc/self/mountinfo", "/proc/self/cgroup")
		sup = s
	})
	return sup
}

// The inode numbers of the initial user and PID namespaces (fixed by the
// kernel).
const (
	initUserNS = 0xEFFFFFFD
	initPIDNS  = 0xEFFFFFFC
)

// nprocBinds returns nil when the kernel applies RLIMIT_NPROC to this
// process's children and netgrade can count the processes it counts,
// else why not.
func nprocBinds() error {
	user, pid := nsInode("user"), nsInode("pid")
	if user == initUserNS && pid != initPIDNS && pid != 0 {
		// A container without a user namespace of its own: the kernel
		// counts the user's processes of the whole machine, /proc shows
		// those of the container.
		return errors.New("netgrade runs in a PID namespace of the machine's users (a container) and cannot count the user's processes")
	}
	if hostUID(os.Getuid()) == 0 {
		return errors.New("netgrade runs as root, which RLIMIT_NPROC does not bind")
	}
	if user != initUserNS {
		// Capabilities in a user namespace of its own do not exempt a
		// process from RLIMIT_NPROC: only those of the machine do.
		return nil
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return err
			}
			if caps&(1<<unix.CAP_SYS_RESOURCE|1<<unix.CAP_SYS_ADMIN) != 0 {
				return errors.New("netgrade has CAP_SYS_RESOURCE or CAP_SYS_ADMIN, which RLIMIT_NPROC does not bind")
			}
			return nil
		}
	}
	return errors.New("no CapEff in /proc/self/status")
}

// nsInode returns the inode number of this process's namespace of a kind
// ("user", "pid"), 0 when it cannot be read.
func nsInode(kind string) uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/"+kind, &st) != nil {
		return 0
	}
	return st.Ino
}

// hostUID returns the user ID that uid, of this process's user namespace,
// is outside it (one level up), as /proc/self/uid_map says.
func hostUID(uid int) int {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return uid
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.Atoi(f[0])
		out, err2 := strconv.Atoi(f[1])
		n, err3 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil && err3 == nil && uid >= in && uid-in < n {
			return out + uid - in
		}
	}
	return uid
}

// next returns a name unique among the programs of this netgrade process
// and of any other running at the same time.
func (s *supervisor) next() string {
	return fmt.Sprintf("netgrade-%d-%d", s.self, s.seq.Add(1))
}

// cgroupFor makes the cgroup of a program, or returns why it has none.
func (s *supervisor) cgroupFor(name string, l Limits) (*cgroup, error) {
	if why := s.refused.Load(); why != nil {
		return nil, errors.New(*why)
	}
	if s.parent == nil {
		return nil, s.cgroupErr
	}
	return s.parent.create(name, l)
}

// refuse records that the kernel would not start a program in its cgroup.
func (s *supervisor) refuse(err error) {
	why := fmt.Sprintf("the kernel refused to start a program in a cgroup: %v", err)
	s.refused.CompareAndSwap(nil, &why)
}

// containment describes the containment of a program with limits l, in a
// cgroup cg (nil when it has none, then fallback says why).
func (s *supervisor) containment(cg *cgroup, fallback error, l Limits) Containment {
	c := Containment{Kind: ContainGroup}
	switch {
	case cg != nil:
		c.Kind, c.Cgroup = ContainCgroup, cg.dir
	case s.subreaper == nil:
		c.Kind = ContainSubreaper
	}
	if cg == nil {
		if fallback != nil {
			c.Fallback = fallback.Error()
		}
		if s.subreaper != nil {
			c.Fallback = strings.TrimPrefix(c.Fallback+"; "+s.subreaper.Error(), "; ")
		}
	}
	switch {
	case l.Memory <= 0:
	case cg != nil && cg.memory:
		c.Memory = Enforced{Value: l.Memory, By: "cgroup"}
	default:
		c.Memory = Enforced{Value: l.Memory, By: "rlimit", Why: "RLIMIT_DATA, for each process"}
		if cg != nil {
			c.Memory.Why += ": no memory controller in the cgroup"
		}
		if s.shared.memory > 0 {
			c.Memory.Why += fmt.Sprintf("; and %s for netgrade and its programs together, the limit of the cgroup netgrade runs in", Bytes(s.shared.memory))
		}
	}
	switch {
	case l.Processes <= 0:
	case cg != nil && cg.pids:
		c.Processes = Enforced{Value: l.Processes, By: "cgroup"}
	case s.shared.pids > 0:
		c.Processes = Enforced{Value: s.shared.pids, By: "cgroup", Why: "for netgrade and its programs together: the limit of the cgroup netgrade runs in, where it reserved its threads"}
	case s.nproc == nil:
		c.Processes = Enforced{Value: l.Processes, By: "rlimit", Why: "RLIMIT_NPROC, beyond those the user already runs"}
	default:
		why := s.nproc.Error()
		if cg != nil {
			why = "no pids controller in the cgroup, and " + why
		}
		c.Processes = Enforced{Why: why}
	}
	if l.Output > 0 {
		c.Output = Enforced{Value: l.Output, By: "netgrade"}
	}
	return c
}

// Probe returns the containment a program started now with the default
// limits would get, without starting one: for --verbose and reports that
// say once how a run's programs were contained.
func Probe() Containment {
	s := theSupervisor()
	var cg *cgroup
	err := s.cgroupErr
	if why := s.refused.Load(); why != nil {
		err = errors.New(*why)
	} else if s.parent != nil {
		cg = &cgroup{dir: s.parent.dir + "/netgrade-*", memory: s.parent.memory, pids: s.parent.pids}
	}
	return s.containment(cg, err, DefaultLimits)
}

// marked returns the live processes that carry mark in their environment
// and are not exclude: the orphans of a program that left its process
// group and lost their parent. With the subreaper in force only
// netgrade's own children can be such orphans, read from netgrade's
// children lists; otherwise every process netgrade may read is looked at.
func (s *supervisor) marked(mark string, exclude int) []observe.ProcInfo {
	var candidates []observe.ProcInfo
	if s.subreaper == nil {
		candidates = s.children()
	} else {
		all, err := proctree.New("").Scan()
		if err != nil {
			return nil
		}
		candidates = all
	}
	want := []byte("\x00" + markVar + "=" + mark + "\x00")
	var out []observe.ProcInfo
	for _, pr := range candidates {
		if pr.PID == exclude || pr.PID == s.self || pr.Gone() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pr.PID))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), want) {
			continue
		}
		out = append(out, pr)
	}
	return out
}

// children returns netgrade's own child processes, zombies included, with
// their process groups. They are read from the children lists of
// netgrade's threads: a few small reads where a scan of /proc would read
// the stat file of every process of the machine at every Stop. The scan
// stays for kernels without those lists.
func (s *supervisor) children() []observe.ProcInfo {
	r := proctree.New("")
	pids, err := r.Children(s.self)
	if err != nil {
		all, err := r.Scan()
		if err != nil {
			return nil
		}
		var out []observe.ProcInfo
		for _, pr := range all {
			if pr.PPID == s.self {
				out = append(out, pr)
			}
		}
		return out
	}
	out := make([]observe.ProcInfo, 0, len(pids))
	for _, pid := range pids {
		if pr, err := r.Stat(pid); err == nil && pr.PPID == s.self {
			out = append(out, pr)
		}
	}
	return out
}

// reap collects the exit status of netgrade's child pid without blocking,
// so that an orphan netgrade inherited and killed leaves no zombie. Only
// PIDs netgrade attributed to one of its programs come here, never one
// that os/exec waits for.
func reap(pid int) {
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
}

// userTasks returns how many processes and threads run under the real
// user ID of netgrade, as RLIMIT_NPROC counts them (approximately: /proc
// shows effective owners).
func userTasks() int64 {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0
	}
	all, err := fs.AllProcs()
	if err != nil {
		return 0
	}
	uid := uint32(os.Getuid())
	var n int64
	for _, pr := range all {
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d", pr.PID), &st) != nil || st.Uid != uid {
			continue
		}
		if ps, err := pr.Stat(); err == nil {
			n += int64(ps.NumThreads)
		}
	}
	return n
}
