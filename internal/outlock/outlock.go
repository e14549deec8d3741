// Package outlock is the lock of an output folder: batch, interop and
// similarity write the same OUT, and two of them must never write it at
// once. The lock is an exclusive flock on one file of OUT; a run refused
// is told which netgrade holds it.
package outlock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// File is the file of OUT that netgrade holds an exclusive flock on
// while it writes the folder.
const File = ".netgrade.lock"

// Lock takes OUT's lock and returns its release.
// When another netgrade holds it, the error names that run: its PID and
// command line, as /proc/locks and /proc/PID/cmdline show them.
func Lock(out string) (func(), error) {
	path := filepath.Join(out, File)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", out, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := "another netgrade"
			if pid, cmd, ok := lockHolder(f, "/proc"); ok {
				who = fmt.Sprintf("another netgrade (PID %d: %s)", pid, cmd)
			}
			return nil, fmt.Errorf("%s is writing %s: wait for it to end, or use another -o folder", who, out)
		}
		return nil, fmt.Errorf("locking %s: %w", out, err)
	}
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// lockHolder finds the process that holds a flock on f in proc's locks
// file, and its command line; ok is false when the kernel does not say.
func lockHolder(f *os.File, proc string) (pid int, cmd string, ok bool) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, "", false
	}
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	locks, err := os.Open(filepath.Join(proc, "locks"))
	if err != nil {
		return 0, "", false
	}
	defer locks.Close()
	sc := bufio.NewScanner(locks)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 1475 fe:00:762141 0 EOF"; a process
		// waiting for the lock shows as "1: -> FLOCK ...".
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || fs[1] != "FLOCK" || fs[5] != want {
			continue
		}
		if pid, err = strconv.Atoi(fs[4]); err != nil || pid <= 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cmdline"))
		if err != nil {
			return pid, "ended meanwhile", true
		}
		return pid, strings.Join(strings.Fields(strings.ReplaceAll(string(data), "\x00", " ")), " "), true
	}
	return 0, "", false
}
