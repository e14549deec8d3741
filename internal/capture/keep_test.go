package capture

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// newTestTap is a Tap without a socket: frames are given to it with
// frame, as its reader gives them.
func newTestTap() *Tap {
	return &Tap{windows: map[*Window]struct{}{}, waiters: map[uint64]chan struct{}{}, done: make(chan struct{})}
}

// TestKeepCopiesIntoSlabs keeps frames of several sizes, across slabs and
// larger than one: every copy still holds its frame's bytes after the
// frames after it were kept, even when a copy is appended to, and the
// reader's buffer it came from is written again.
func TestKeepCopiesIntoSlabs(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int
	}{
		{"small frames in one slab", []int{54, 66, 1500, 54}},
		{"frames across slabs", []int{60000, 65550, 65550, 65550, 65550, 54}},
		{"a frame larger than a slab", []int{54, slabSize + 100, 54}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := newTestTap()
			buf := make([]byte, slabSize+100)
			var kept [][]byte
			for i, n := range c.sizes {
				for j := range n {
					buf[j] = byte(i + j)
				}
				kept = append(kept, tp.keep(buf[:n]))
			}
			for _, k := range kept {
				_ = append(k, 0xff) // must not reach the next copy
			}
			for j := range buf {
				buf[j] = 0xee
			}
			for i, n := range c.sizes {
				want := make([]byte, n)
				for j := range want {
					want[j] = byte(i + j)
				}
				assert.Assert(t, bytes.Equal(kept[i], want), "frame %d of %d bytes", i, n)
			}
		})
	}
}

// TestWindowKeepsItsPorts gives the Tap frames of many ports, those at the
// edges of the window's set of ports among them: the window keeps the
// frames from or to its ports since its beginning, in order.
func TestWindowKeepsItsPorts(t *testing.T) {
	cases := []struct {
		name    string
		watched []int
		frames  [][2]uint16 // source and destination ports
		want    [][2]uint16
	}{
		{"one port, either way", []int{20001},
			[][2]uint16{{40000, 20001}, {20001, 40000}, {40000, 20005}, {20005, 40000}},
			[][2]uint16{{40000, 20001}, {20001, 40000}}},
		{"the edges of the bit set", []int{1, 63, 64, 65535},
			[][2]uint16{{1, 2}, {2, 62}, {62, 63}, {64, 65}, {65, 66}, {65534, 65535}, {65535, 65534}, {65533, 65534}},
			[][2]uint16{{1, 2}, {62, 63}, {64, 65}, {65534, 65535}, {65535, 65534}}},
		{"no port", nil, [][2]uint16{{40000, 20001}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := newTestTap()
			begin := time.Now()
			w := tp.Open(begin)
			for _, p := range c.watched {
				w.Watch(p)
			}
			tp.frame(frame(UDP, 20001, 20001, 0, 0, "before").Data, 50, begin.Add(-time.Millisecond))
			for i, f := range c.frames {
				data := frame(UDP, f[0], f[1], 0, 0, fmt.Sprint(i)).Data
				tp.frame(data, len(data), begin.Add(time.Duration(i+1)*time.Millisecond))
			}
			var got [][2]uint16
			for _, f := range w.CloseSynced(true).Frames {
				got = append(got, [2]uint16{f.Packet.Src, f.Packet.Dst})
			}
			assert.DeepEqual(t, got, c.want)
		})
	}
}
