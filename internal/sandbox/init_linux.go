package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"

	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/proctree"
	"golang.org/x/sys/unix"
)

// InitOptions say what the unit runner does as PID 1 of its namespace.
type InitOptions struct {
	// Setup mounts a fresh /proc and brings up the loopback (netns sandbox;
	// a container has both already).
	Setup bool
	// Probe only sets up and reports that it could (NetnsAvailable).
	Probe bool
	// Args are the arguments of the unit runner child it starts.
	Args []string
}

// Init runs the first process of a unit's namespace. When the process is
// not PID 1 (a container started with its own init), it only does the
// setup and returns false: the caller then grades in this process. As PID
// 1, it sets the namespace up, starts the unit runner as its child (with the
// same standard streams), reaps every orphan the graded programs leave, and
// exits with the child's status once the child ends; the kernel then kills
// whatever is left in the namespace. The pair runner (Args holding
// pairFlag) is run by PID 1 itself instead, where orphans can be told from
// the processes os/exec waits for (see reapOrphans): Init then starts
// reaping orphans in the background and returns false, which spares a
// start of netgrade in every cell of an interop matrix. Errors are written
// to stdout as the unit's stream error, so that the parent can say what
// failed.
func Init(opt InitOptions, stdout io.Writer) (handled bool, code int) {
	if opt.Setup {
		if err := setupNamespace(); err != nil {
			_ = json.NewEncoder(stdout).Encode(line{Error: err.Error()})
			return true, 3
		}
	}
	if opt.Probe {
		if os.Getpid() != 1 {
			_ = json.NewEncoder(stdout).Encode(line{Error: "the unit runner is not PID 1 of a new PID namespace"})
			return true, 3
		}
		_ = json.NewEncoder(stdout).Encode(line{Done: true})
		return true, 0
	}
	if os.Getpid() != 1 {
		return false, 0
	}
	// PID 1 shares a container's pids limit with the programs too.
	harness.ReserveThreads(initThreads)
	if slices.Contains(opt.Args, pairFlag) && pidfdsUsed() {
		go reapOrphans()
		return false, 0
	}
	self, err := os.Executable()
	if err != nil {
		_ = json.NewEncoder(stdout).Encode(line{Error: fmt.Sprintf("finding netgrade's own binary: %v", err)})
		return true, 3
	}
	child, err := os.StartProcess(self, append([]string{self, "unit"}, opt.Args...), &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		_ = json.NewEncoder(stdout).Encode(line{Error: fmt.Sprintf("starting the unit runner: %v", err)})
		return true, 3
	}
	return true, reap(child.Pid)
}

// initThreads is how many OS threads PID 1 of a unit reserves: it only
// starts the unit runner and waits for processes.
const initThreads = 8

// reap waits for every process that ends in the namespace (orphans are
// re-parented to PID 1) and returns the exit code of pid.
func reap(pid int) int {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 3
		}
		if wpid != pid {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
}

// reapOrphans reaps, for as long as the process lives, the orphans that
// the kernel gives PID 1 when their parent dies, while the pair runner
// works in PID 1 itself: at each SIGCHLD, reapZombies.
func reapOrphans() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	for {
		reapZombies(os.Getpid())
		<-sigs
	}
}

// reapZombies reaps every zombie child of self that no pidfd of this
// process refers to. os/exec holds a pidfd of every process it starts from
// the clone until it has reaped it (pidfdsUsed checks that it does), so a
// zombie without one is no process os/exec waits for: taking its status
// steals no program's exit. The zombies are listed before the pidfds are
// read, so that a program started in between is never taken for one.
func reapZombies(self int) {
	all, err := proctree.New("").Scan()
	if err != nil {
		return
	}
	var zombies []int
	for _, p := range all {
		if p.PPID == self && p.State == "Z" {
			zombies = append(zombies, p.PID)
		}
	}
	if len(zombies) == 0 {
		return
	}
	held := heldPidfds()
	for _, pid := range zombies {
		if !held[pid] {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}

// pidfdsUsed reports whether os/exec refers to the processes it starts by
// pidfds here (it does where the kernel and any seccomp filter allow
// them), which reapOrphans needs: os.FindProcess takes a pidfd on the
// same condition, and this looks for it among the open files.
func pidfdsUsed() bool {
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		return false
	}
	defer p.Release()
	return heldPidfds()[os.Getpid()]
}

// heldPidfds returns the processes this process holds a pidfd of, read
// from the "Pid:" lines of /proc/self/fdinfo (only a pidfd's has one).
func heldPidfds() map[int]bool {
	held := map[int]bool{}
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		return held
	}
	for _, fd := range fds {
		data, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("Pid:")); ok {
				if pid, err := strconv.Atoi(string(bytes.TrimSpace(v))); err == nil && pid > 0 {
					held[pid] = true
				}
				break
			}
		}
	}
	return held
}

// scratchDir is the unit's writable folder.
const scratchDir = "/dev/shm"

// setupNamespace makes the new mount namespace private and its whole file
// system read-only (the unit's programs may write only to a fresh
// /dev/shm of their own, which TMPDIR names), mounts a /proc of the new PID namespace over the
// old one (observe reads sockets and process trees there), and brings
// the new network namespace's loopback up.
func setupNamespace() error {
	if err := unix.Mount("none", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the unit's mounts private: %w", err)
	}
	err := unix.MountSetattr(-1, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if err != nil && !errors.Is(err, unix.ENOSYS) {
		// ENOSYS: a kernel older than 5.12 has no mount_setattr; the file
		// system then stays as writable as it is for the user.
		return fmt.Errorf("making the unit's file system read-only: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting the unit's own /proc: %w", err)
	}
	if err := mountScratch(false); err != nil {
		return err
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bringing up the unit's loopback: %w", err)
	}
	return nil
}

// mountScratch mounts an empty tmpfs of the unit's own on scratchDir, when
// the folder exists, and names it in TMPDIR: /tmp stays the host's
// (netgrade and the submission may live there), read-only. again unmounts
// the one mounted before (a pair runner that serves many cells gives each
// an empty one); the unmount is lazy, as nothing of the last cell may
// hold the old one busy, but nothing must keep it from going either.
func mountScratch(again bool) error {
	if _, err := os.Stat(scratchDir); err != nil {
		return nil
	}
	if again {
		if err := unix.Unmount(scratchDir, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmounting the last cell's %s: %w", scratchDir, err)
		}
	}
	if err := unix.Mount("tmpfs", scratchDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64m,mode=1777"); err != nil {
		return fmt.Errorf("mounting the unit's own %s: %w", scratchDir, err)
	}
	return os.Setenv("TMPDIR", scratchDir)
}

// loopbackUp sets the IFF_UP flag of lo.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
