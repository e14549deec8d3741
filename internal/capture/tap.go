// Package capture records the real frames on the loopback interface while
// programs are graded, and hands each check the frames of its own ports
// as a pcapng file that Wireshark opens: one AF_PACKET socket on "lo" for
// a whole grading (a Tap), a Window per check that collects the ports the
// check used, and at the check's end the frames of those ports in its
// time span, bounded in size. The session keys of netgrade's own TLS
// servers go into the file as a Decryption Secrets Block, so that
// Wireshark decrypts the dialogue without any set-up.
//
// It also answers the course's questions about a check's traffic (how
// large a frame is beside the message it carries, what a TCP exchange
// costs in frames, what an eavesdropper reads): from the captured frames
// when there are some, computed from the transcript otherwise, and saying
// which.
//
// Capturing needs CAP_NET_RAW in the network namespace of the loopback
// (root, or the user namespace of a netns or docker sandbox); without it,
// Open returns an error whose text says so plainly. No libpcap and no cgo:
// the socket is opened with golang.org/x/sys/unix (gopacket's
// pcapgo.EthernetHandle has no receive ring, no receive buffer size and no
// way to wake a blocked read), frames come through the kernel's receive
// ring (ring.go), and the files are written with gopacket's pcapgo, but
// for the Decryption Secrets Block, which its NgWriter lacks.
package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Bounds of what is kept.
const (
	// MaxCapture bounds one check's capture: the frames beyond it are left
	// out (and counted), as a program's output is cut at its limit.
	MaxCapture = 4 << 20
	// maxKept bounds the frames a Tap keeps in memory for the windows
	// still open; the oldest go first.
	maxKept = 64 << 20
	// snapLen is the most of a frame kept: loopback's MTU, 65536.
	snapLen = 1 << 16
	// rcvBuf is the socket's receive buffer: loopback's frames are up to
	// 64 KiB each, and the kernel's default buffer holds three of them.
	rcvBuf = 8 << 20
	// slabSize is the size of the blocks of memory the Tap copies the
	// frames it keeps into, one after the other: one allocation for many
	// frames, not one each (a frame larger than a slab gets its own).
	slabSize = 256 << 10
	// syncTimeout bounds the wait for the Tap to have read every frame
	// sent before a check ended; beyond it the capture is written with
	// what was read, and says so.
	syncTimeout = 2 * time.Second
)

// Interface is the interface captured: the loopback, the only one a
// graded program is allowed to use.
const Interface = "lo"

// ErrNotPermitted is wrapped by Open's error when the machine does not
// let netgrade capture (neither root nor CAP_NET_RAW).
var ErrNotPermitted = errors.New("capturing frames needs root or CAP_NET_RAW")

// Frame is one frame as the kernel saw it on the loopback.
type Frame struct {
	// Time is the kernel's time stamp of the frame.
	Time time.Time
	// Data is the frame from its Ethernet header, at most snapLen bytes.
	Data []byte
	// Len is the frame's length on the wire.
	Len int
	// Packet is what the headers say (the zero value for a frame that is
	// neither TCP nor UDP over IP).
	Packet Packet
}

// Tap is one packet socket on the loopback, read for the whole grading.
// It is safe for use by several goroutines.
type Tap struct {
	// file holds the packet socket, non-blocking, so that the reader
	// waits in Go's network poller (no thread blocked in recvmsg) and
	// Close wakes it.
	file   *os.File
	raw    syscall.RawConn
	ring   *ring // nil: frames are read one by one
	marker *net.UDPConn
	mport  uint16

	mu     sync.Mutex
	frames []Frame
	size   int
	// slab is where the next kept frame is copied to: the unused end of
	// the last slab. Bytes handed out are never written again.
	slab    []byte
	windows map[*Window]struct{}
	oldest  time.Time // the earliest beginning of an open window
	// lost counts the frames lost so far: dropped by the kernel (the
	// socket's queue or ring was full) or beyond maxKept.
	lost    uint64
	seq     uint64                   // the last marker sent
	seen    uint64                   // the last marker read
	waiters map[uint64]chan struct{} // closed when their marker is read
	closed  bool
	done    chan struct{}
	err     error
}

// Open starts capturing on the loopback. The error names why not: no
// permission (ErrNotPermitted), or no loopback here.
func Open() (*Tap, error) { return open(true) }

// open is Open, with the receive ring when useRing and the kernel gives
// one, else reading frame by frame.
func open(useRing bool) (*Tap, error) {
	ifc, err := net.InterfaceByName(Interface)
	if err != nil {
		return nil, fmt.Errorf("capture: no loopback interface %q: %w", Interface, err)
	}
	// Protocol 0: the socket receives nothing until bind names the
	// protocol and the loopback, after the ring is set up; the kernel
	// then has no hook to take down and no frame of another interface to
	// hand over first (each take-down waits for a grace period of RCU,
	// tens of milliseconds on a loaded machine).
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("%w (this process has neither; run as root, or grant it with `sudo setcap cap_net_raw+ep $(command -v netgrade)`): %w", ErrNotPermitted, err)
		}
		return nil, fmt.Errorf("capture: opening a packet socket: %w", err)
	}
	tp := &Tap{windows: map[*Window]struct{}{}, waiters: map[uint64]chan struct{}{}, done: make(chan struct{})}
	if err := setup(fd); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// Without a receive ring (an old kernel), frames are read one by one.
	if useRing {
		tp.ring, _ = setupRing(fd)
	}
	if err := bind(fd, ifc.Index); err != nil {
		unix.Close(fd)
		tp.ring.unmap()
		return nil, err
	}
	tp.file = os.NewFile(uintptr(fd), "packet socket on "+Interface)
	if tp.raw, err = tp.file.SyscallConn(); err != nil {
		tp.file.Close()
		tp.ring.unmap()
		return nil, fmt.Errorf("capture: %w", err)
	}
	// The marker socket sends a datagram to itself when a grading ends:
	// once the reader has seen it, every frame sent before it was read.
	tp.marker, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tp.file.Close()
		tp.ring.unmap()
		return nil, fmt.Errorf("capture: opening the marker socket: %w", err)
	}
	tp.mport = uint16(tp.marker.LocalAddr().(*net.UDPAddr).Port)
	if tp.ring != nil {
		go tp.readRing()
	} else {
		go tp.read()
	}
	go tp.drainMarker()
	return tp, nil
}

// setup sets the socket's options.
func setup(fd int) error {
	// Each loopback frame passes the tap twice, going out and coming in:
	// keep the incoming copy only, as tcpdump does.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("capture: asking for time stamps: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}

// bind starts the socket's capture: every frame of the loopback.
func bind(fd, ifindex int) error {
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return fmt.Errorf("capture: binding to the loopback: %w", err)
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// read reads frames until the Tap is closed.
func (tp *Tap) read() {
	defer close(tp.done)
	buf := make([]byte, snapLen)
	oob := make([]byte, unix.CmsgSpace(16))
	var n, oobn int
	var from unix.Sockaddr
	var rerr error
	recv := func(fd uintptr) bool {
		n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN && rerr != unix.EINTR
	}
	for {
		err := tp.raw.Read(recv)
		now := time.Now()
		if tp.isClosed() {
			return
		}
		if err == nil {
			err = rerr
		}
		if err != nil {
			tp.mu.Lock()
			tp.err = fmt.Errorf("capture: reading the loopback: %w", err)
			tp.mu.Unlock()
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // the kernel is older than PACKET_IGNORE_OUTGOING
		}
		tp.frame(buf[:min(n, len(buf))], n, stamp(oob[:oobn], now))
	}
}

// readRing reads the blocks of the receive ring until the Tap is closed:
// it wakes when the kernel hands a block over.
func (tp *Tap) readRing() {
	defer close(tp.done)
	ready := func(uintptr) bool { return tp.ring.ready() }
	for {
		err := tp.raw.Read(ready)
		if tp.isClosed() {
			return
		}
		if err != nil {
			tp.mu.Lock()
			tp.err = fmt.Errorf("capture: reading the loopback: %w", err)
			tp.mu.Unlock()
			return
		}
		tp.ring.drain(tp.frame)
	}
}

// frame takes one frame read (data, of length on the wire n, time
// stamped at): a marker, a frame kept for the checks, or nothing of
// theirs. data is the reader's buffer: what is kept is copied.
func (tp *Tap) frame(data []byte, n int, at time.Time) {
	pk := Parse(data)
	switch {
	case pk.Proto == UDP && pk.Dst == tp.mport && pk.Src == tp.mport:
		tp.marked(pk.Payload(data))
		return
	case pk.Proto == 0:
		return // no check's: neither TCP nor UDP
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.watching() {
		tp.add(Frame{Time: at, Data: tp.keep(data), Len: n, Packet: pk})
	}
}

// keep returns a copy of data in the current slab, or in a new one when
// it has no room left; tp.mu held.
func (tp *Tap) keep(data []byte) []byte {
	if cap(tp.slab)-len(tp.slab) < len(data) {
		tp.slab = make([]byte, 0, max(slabSize, len(data)))
	}
	n := len(tp.slab)
	tp.slab = append(tp.slab, data...)
	return tp.slab[n : n+len(data) : n+len(data)]
}

// stamp returns the kernel's time stamp of a frame, or now without one.
func stamp(oob []byte, now time.Time) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return now
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec)
		}
	}
	return now
}

// watching reports whether a window is open: a frame read now may be a
// check's. Without one, it lets the frames kept go; tp.mu held.
func (tp *Tap) watching() bool {
	if len(tp.windows) == 0 && len(tp.frames) > 0 {
		tp.frames, tp.size, tp.slab = tp.frames[:0], 0, nil
	}
	return len(tp.windows) > 0
}

// add keeps a frame for the open windows, and drops what no window can
// want any more: frames older than every open window, and the oldest
// beyond maxKept; tp.mu held.
func (tp *Tap) add(f Frame) {
	tp.frames = append(tp.frames, f)
	tp.size += len(f.Data)
	oldest := f.Time
	if tp.oldest.Before(oldest) {
		oldest = tp.oldest
	}
	drop := 0
	for drop < len(tp.frames) && (tp.size > maxKept || tp.frames[drop].Time.Before(oldest)) {
		if !tp.frames[drop].Time.Before(oldest) {
			tp.lost++ // a frame an open window may want
		}
		tp.size -= len(tp.frames[drop].Data)
		drop++
	}
	if drop > 0 {
		tp.frames = append(tp.frames[:0], tp.frames[drop:]...)
	}
}

// setOldest sets the earliest beginning of the open windows; tp.mu held.
func (tp *Tap) setOldest() {
	tp.oldest = time.Time{}
	for w := range tp.windows {
		if tp.oldest.IsZero() || w.begin.Before(tp.oldest) {
			tp.oldest = w.begin
		}
	}
}

// marked records that the marker numbered by payload was read.
func (tp *Tap) marked(payload []byte) {
	if len(payload) != 8 {
		return
	}
	n := binary.BigEndian.Uint64(payload)
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if n > tp.seen {
		tp.seen = n
	}
	for k, ch := range tp.waiters {
		if k <= tp.seen {
			close(ch)
			delete(tp.waiters, k)
		}
	}
}

// drainMarker empties the marker socket's own receive queue.
func (tp *Tap) drainMarker() {
	buf := make([]byte, 16)
	for {
		if _, _, err := tp.marker.ReadFromUDP(buf); err != nil {
			return
		}
	}
}

// sync waits until the Tap has read every frame sent before it was
// called: it sends a marker through the loopback and waits to read it.
// It reports whether it saw the marker in time.
func (tp *Tap) sync(ctx context.Context) bool {
	tp.mu.Lock()
	if tp.closed || tp.err != nil {
		tp.mu.Unlock()
		return false
	}
	tp.seq++
	n := tp.seq
	ch := make(chan struct{})
	tp.waiters[n] = ch
	tp.mu.Unlock()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	if _, err := tp.marker.WriteToUDP(b[:], tp.marker.LocalAddr().(*net.UDPAddr)); err != nil {
		return false
	}
	t := time.NewTimer(syncTimeout)
	defer t.Stop()
	select {
	case <-ch:
		tp.countDrops()
		return true
	case <-t.C:
	case <-ctx.Done():
	case <-tp.done:
	}
	tp.mu.Lock()
	delete(tp.waiters, n)
	tp.mu.Unlock()
	return false
}

// countDrops adds the frames the kernel dropped since it was last asked
// (its counters start again at each question) to the frames lost.
func (tp *Tap) countDrops() {
	var drops uint32
	err := tp.raw.Control(func(fd uintptr) {
		if tp.ring != nil {
			if st, err := unix.GetsockoptTpacketStatsV3(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
				drops = st.Drops
			}
		} else if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			drops = st.Drops
		}
	})
	if err == nil && drops > 0 {
		tp.mu.Lock()
		tp.lost += uint64(drops)
		tp.mu.Unlock()
	}
}

func (tp *Tap) isClosed() bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.closed
}

// Close stops capturing and releases the socket.
func (tp *Tap) Close() error {
	tp.mu.Lock()
	if tp.closed {
		tp.mu.Unlock()
		return nil
	}
	tp.closed = true
	tp.mu.Unlock()
	// Closing the file wakes the reader.
	err := tp.file.Close()
	<-tp.done
	tp.ring.unmap()
	tp.marker.Close()
	return err
}

// Window collects one check's ports while it runs; Close returns the
// check's frames.
type Window struct {
	tp    *Tap
	begin time.Time
	lost  uint64 // the Tap's count of lost frames when the window opened

	mu    sync.Mutex
	ports map[uint16]bool
}

// Open starts the window of a check that began at begin: only frames from
// then on can be its.
func (tp *Tap) Open(begin time.Time) *Window {
	w := &Window{tp: tp, begin: begin, ports: map[uint16]bool{}}
	tp.mu.Lock()
	w.lost = tp.lost
	tp.windows[w] = struct{}{}
	tp.setOldest()
	tp.mu.Unlock()
	return w
}

// Watch adds a port the check used (handed to its program, listened on,
// or connected from): frames to or from it are the check's.
func (w *Window) Watch(port int) {
	if w == nil || port <= 0 || port > 65535 {
		return
	}
	w.mu.Lock()
	w.ports[uint16(port)] = true
	w.mu.Unlock()
}

// Capture is what a window collected: the check's frames, in order, and
// what was left out.
type Capture struct {
	Frames []Frame
	// Dropped counts frames of the check left out beyond MaxCapture.
	Dropped int
	// Incomplete says that the last frames may be missing: the Tap did not
	// confirm in time that it had read them, or it stopped reading.
	Incomplete string
}

// Sync waits until the Tap has read every frame sent before it was
// called; false when it could not confirm it in time. Windows closed after
// it hold every frame of their checks, if their checks had ended.
func (tp *Tap) Sync(ctx context.Context) bool { return tp.sync(ctx) }

// Close ends the window: it waits until the Tap has read every frame sent
// so far, and returns the frames to or from the window's ports since its
// beginning, at most MaxCapture bytes of them.
func (w *Window) Close(ctx context.Context) Capture {
	return w.CloseSynced(w.tp.Sync(ctx))
}

// CloseSynced is Close after a Sync that returned synced: windows closed
// together need one Sync.
func (w *Window) CloseSynced(synced bool) Capture {
	var c Capture
	if !synced {
		c.Incomplete = "netgrade could not confirm that it had read the last frames: the capture may end early"
	}
	// The window's ports as a bit set: the frames kept are walked once for
	// each window, and a grading closes all its windows at once.
	var ports [1 << 16 / 64]uint64
	w.mu.Lock()
	for p := range w.ports {
		ports[p/64] |= 1 << (p % 64)
	}
	w.mu.Unlock()
	watched := func(p uint16) bool { return ports[p/64]&(1<<(p%64)) != 0 }
	tp := w.tp
	tp.mu.Lock()
	defer tp.mu.Unlock()
	delete(tp.windows, w)
	tp.setOldest()
	if tp.lost > w.lost {
		c.Incomplete = fmt.Sprintf("%d frames on the loopback were lost while the check ran (the machine was too busy to keep them): the capture may lack some", tp.lost-w.lost)
	}
	if tp.err != nil {
		c.Incomplete = tp.err.Error()
	}
	size := 0
	for _, f := range tp.frames {
		if f.Time.Before(w.begin) || f.Packet.Proto == 0 || !(watched(f.Packet.Src) || watched(f.Packet.Dst)) {
			continue
		}
		if size+len(f.Data) > MaxCapture {
			c.Dropped++
			continue
		}
		size += len(f.Data)
		c.Frames = append(c.Frames, f)
	}
	return c
}
