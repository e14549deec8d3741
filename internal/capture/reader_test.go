package capture

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestBothReaders captures datagrams with the receive ring (what Open
// uses where the kernel gives one) and reading frame by frame (the
// fallback): both keep the same frames, in order, time stamped by the
// kernel within the exchange.
func TestBothReaders(t *testing.T) {
	for _, useRing := range []bool{true, false} {
		name := map[bool]string{true: "ring", false: "recvmsg"}[useRing]
		t.Run(name, func(t *testing.T) {
			tp, err := open(useRing)
			if err != nil {
				if errors.Is(err, ErrNotPermitted) && os.Getenv("NETGRADE_REQUIRE_CAPTURE") != "1" {
					t.Skipf("SKIPPED: %v (NETGRADE_REQUIRE_CAPTURE=1 makes this a failure)", err)
				}
				t.Fatal(err)
			}
			defer tp.Close()
			assert.Equal(t, tp.ring != nil, useRing, "the kernel gives a receive ring")
			begin := time.Now()
			w := tp.Open(begin)
			srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			assert.NilError(t, err)
			defer srv.Close()
			w.Watch(srv.LocalAddr().(*net.UDPAddr).Port)
			c, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
			assert.NilError(t, err)
			defer c.Close()
			want := []string{"one", "two", "three"}
			for _, m := range want {
				_, err := c.Write([]byte(m))
				assert.NilError(t, err)
			}
			end := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got := w.Close(ctx)
			assert.Equal(t, got.Incomplete, "")
			var msgs []string
			for _, f := range got.Frames {
				msgs = append(msgs, string(f.Packet.Payload(f.Data)))
				assert.Assert(t, !f.Time.Before(begin.Add(-time.Millisecond)) && !f.Time.After(end.Add(time.Second)), "time stamp %v", f.Time)
				assert.Equal(t, f.Len, len(f.Data))
			}
			assert.DeepEqual(t, msgs, want)
		})
	}
}
