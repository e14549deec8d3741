package harness

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sharedLimits are the limits of the cgroup netgrade itself runs in (a
// container's, cgroup v1 or v2): a program without a cgroup of its own
// shares them with netgrade. netgrade cannot change them, but it reads
// them to say which limit a program ran into.
type sharedLimits struct {
	// pidsDir and memDir are the directories of netgrade's own pids and
	// memory cgroups, empty when they set no limit.
	pidsDir, memDir string
	// memV1 is true for a cgroup v1 memory controller.
	memV1 bool
	// pids and memory are the limits (processes, bytes).
	pids, memory int64
}

// sharedCounters are the event counters of the shared limits at one time.
type sharedCounters struct {
	pidsEvents, oomKills, pidsCurrent int64
}

// unlimited is the value from which a limit read is taken as none: cgroup
// v1 writes a number near 2^63 for "no memory limit".
const unlimited = 1 << 60

// findSharedLimits reads the limits of netgrade's own cgroups from a
// mountinfo and a /proc/PID/cgroup file.
func findSharedLimits(mountinfo, cgroupFile string) sharedLimits {
	var s sharedLimits
	dirs := ownControllerDirs(mountinfo, cgroupFile)
	if d, ok := dirs["pids"]; ok {
		if n := readLimit(filepath.Join(d.dir, "pids.max")); n > 0 {
			s.pidsDir, s.pids = d.dir, n
		}
	}
	if d, ok := dirs["memory"]; ok {
		file := "memory.max"
		if d.v1 {
			file = "memory.limit_in_bytes"
		}
		if n := readLimit(filepath.Join(d.dir, file)); n > 0 {
			s.memDir, s.memV1, s.memory = d.dir, d.v1, n
		}
	}
	return s
}

// readLimit reads a limit file: a number, or "max" (none, 0).
func readLimit(file string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || n >= unlimited {
		return 0
	}
	return n
}

type controllerDir struct {
	dir string
	v1  bool
}

// ownControllerDirs returns, for the pids and memory controllers, the
// directory of the cgroup a process is in, as mounted here: a cgroup v1
// hierarchy of that controller, or else the cgroup v2 hierarchy.
func ownControllerDirs(mountinfo, cgroupFile string) map[string]controllerDir {
	type mount struct{ point, root string }
	v1 := map[string]mount{}
	var v2 *mount
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(sf) < 3 {
			continue
		}
		m := mount{point: unescapeMount(pf[4]), root: unescapeMount(pf[3])}
		switch sf[0] {
		case "cgroup2":
			if v2 == nil {
				v2 = &m
			}
		case "cgroup":
			for _, opt := range strings.Split(sf[2], ",") {
				if opt == "pids" || opt == "memory" {
					v1[opt] = m
				}
			}
		}
	}
	data, err := os.ReadFile(cgroupFile)
	if err != nil {
		return nil
	}
	paths := map[string]string{}
	var v2path string
	for _, l := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2path = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			paths[c] = parts[2]
		}
	}
	under := func(m mount, p string) string {
		rel := strings.TrimPrefix(p, m.root)
		if m.root != "/" && !strings.HasPrefix(p, m.root) {
			return ""
		}
		return filepath.Join(m.point, rel)
	}
	out := map[string]controllerDir{}
	for _, c := range []string{"pids", "memory"} {
		if m, ok := v1[c]; ok {
			if p, ok := paths[c]; ok {
				if d := under(m, p); d != "" {
					out[c] = controllerDir{dir: d, v1: true}
				}
			}
			continue
		}
		if v2 != nil && v2path != "" {
			if d := under(*v2, v2path); d != "" {
				out[c] = controllerDir{dir: d}
			}
		}
	}
	return out
}

// counters reads the event counters of the shared limits.
func (s sharedLimits) counters() sharedCounters {
	var c sharedCounters
	if s.pidsDir != "" {
		if ev, err := readKeyed(filepath.Join(s.pidsDir, "pids.events")); err == nil {
			c.pidsEvents = ev["max"]
		}
		c.pidsCurrent = readLimit(filepath.Join(s.pidsDir, "pids.current"))
	}
	if s.memDir != "" {
		file := "memory.events"
		if s.memV1 {
			file = "memory.oom_control"
		}
		if ev, err := readKeyed(filepath.Join(s.memDir, file)); err == nil {
			c.oomKills = ev["oom_kill"]
		}
	}
	return c
}

// hit returns the shared limit a program ran into between the counters
// before (read when it started) and now. The processes the program may run
// are those the limit left when it started: netgrade's own count against
// the same limit.
func (s sharedLimits) hit(before sharedCounters) LimitHit {
	if s.pidsDir == "" && s.memDir == "" {
		return LimitHit{}
	}
	now := s.counters()
	if now.oomKills > before.oomKills {
		return LimitHit{Kind: LimitMemory, Value: s.memory}
	}
	if now.pidsEvents > before.pidsEvents {
		return LimitHit{Kind: LimitProcesses, Value: s.processesLeft(before)}
	}
	return LimitHit{}
}

// processesLeft returns how many processes the shared limit left a
// program that started when the counters were before (the program itself
// counted in).
func (s sharedLimits) processesLeft(before sharedCounters) int64 {
	if before.pidsCurrent > 0 && before.pidsCurrent <= s.pids {
		return s.pids - before.pidsCurrent + 1
	}
	return s.pids
}
