package proctree

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Blocked says what a process is blocked on: a read of one of its
// sockets.
type Blocked struct {
	// Call is the system call, e.g. "recvfrom".
	Call string
	// FD is the socket's file descriptor.
	FD int
}

// String shows the call as the program made it: "recvfrom on fd 3".
func (b Blocked) String() string { return fmt.Sprintf("%s on fd %d", b.Call, b.FD) }

// readCalls are the system calls that read a socket, by number.
var readCalls = map[uint64]string{
	unix.SYS_READ:     "read",
	unix.SYS_RECVFROM: "recvfrom",
	unix.SYS_RECVMSG:  "recvmsg",
	unix.SYS_RECVMMSG: "recvmmsg",
}

// ErrNoSyscall is returned by BlockedReading where the kernel does not
// show a process's current system call (/proc/PID/syscall), or shows it to
// no one but a tracer.
var ErrNoSyscall = errors.New("/proc/PID/syscall cannot be read")

// BlockedReading reports whether pid, a process of one thread and no
// children, sleeps in a blocking read of one of its sockets: a process that
// can only go on once something arrives on that socket. ok is false for a
// process that runs, sleeps on anything else (a timer, a poll with a
// timeout, a lock), has threads or children, or has ended. err is
// ErrNoSyscall when the kernel does not tell.
func (r *Reader) BlockedReading(pid int) (b Blocked, ok bool, err error) {
	p, err := r.Stat(pid)
	if err != nil || p.State != "S" || p.Threads != 1 {
		return Blocked{}, false, nil
	}
	if kids, err := r.Children(pid); err != nil || len(kids) > 0 {
		return Blocked{}, false, nil
	}
	dir := r.root + "/" + strconv.Itoa(pid)
	line, err := r.read(dir + "/syscall")
	if err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOENT) {
			return Blocked{}, false, fmt.Errorf("%w: %w", ErrNoSyscall, err)
		}
		return Blocked{}, false, nil
	}
	// "NR ARG1 ARG2 ... SP PC" while in a system call; "running" or "-1
	// SP PC" otherwise. The line is kept apart from the read buffer,
	// which the looks below reuse.
	fields := bytes.Fields(bytes.Clone(line))
	if len(fields) < 3 {
		return Blocked{}, false, nil
	}
	nr, err := strconv.ParseUint(string(fields[0]), 10, 64)
	if err != nil {
		return Blocked{}, false, nil
	}
	call, reads := readCalls[nr]
	if !reads {
		return Blocked{}, false, nil
	}
	fd, err := strconv.ParseUint(string(bytes.TrimPrefix(fields[1], []byte("0x"))), 16, 31)
	if err != nil {
		return Blocked{}, false, nil
	}
	n, err := unix.Readlink(dir+"/fd/"+strconv.FormatUint(fd, 10), r.buf)
	if err != nil || !bytes.HasPrefix(r.buf[:n], []byte("socket:[")) {
		return Blocked{}, false, nil
	}
	// Still the same sleep: a read that returned between the two looks
	// leaves the process running or in another call.
	again, err := r.read(dir + "/syscall")
	if err != nil || !bytes.HasPrefix(again, []byte(string(fields[0])+" ")) {
		return Blocked{}, false, nil
	}
	return Blocked{Call: call, FD: int(fd)}, true, nil
}
