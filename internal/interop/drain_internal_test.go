package interop

import (
	"context"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestDrainClient checks what a TCP cell waits for once its client has
// ended: the relay's reading of every client connection to its close (or
// reset, or the server's refusal), and no longer than the end window. A
// message still in the relay's reader when the client ends is recorded
// before the cell is judged.
func TestDrainClient(t *testing.T) {
	connected := event{Dir: note, Text: noteConnected}
	for _, tc := range []struct {
		name string
		// before are the relay's events when the client has ended; later
		// are recorded by the relay's reader afterwards.
		before, later []event
		// drained: every connection was read to its end when the wait
		// returned (else the window passed).
		drained bool
	}{
		{name: "no connection", drained: true},
		{name: "closed already", before: []event{connected, {Dir: toServer, Data: []byte("hi")}, {Dir: note, Text: noteClientClosed}}, drained: true},
		{name: "refused", before: []event{connected, {Dir: note, Text: noteRefused}}, drained: true},
		{name: "message and close still in the reader", before: []event{connected},
			later: []event{{Dir: toServer, Data: []byte("các bạn")}, {Dir: note, Text: noteClientClosed}}, drained: true},
		{name: "reset", before: []event{connected}, later: []event{{Dir: note, Text: noteClientReset}}, drained: true},
		{name: "one of two connections never ends", before: []event{connected, connected, {Dir: note, Text: noteClientClosed}}},
		{name: "a child holds the socket", before: []event{connected, {Dir: toServer, Data: []byte("hi")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			for _, e := range tc.before {
				rec.add(e)
			}
			// The whole window (3 s) where the relay's reader comes late, so
			// that a busy machine cannot make it later; 150 ms where the
			// window is waited out.
			scale := 1.0
			if !tc.drained {
				scale = 0.05
			}
			c := &run{req: Request{TimeoutScale: scale}, relay: &relay{rec: rec}}
			go func() {
				for _, e := range tc.later {
					time.Sleep(20 * time.Millisecond) // the relay's reader, late
					rec.add(e)
				}
			}()
			c.drainClient(context.Background())
			evs, _ := rec.snapshot()
			opened, ended := 0, 0
			for _, e := range evs {
				switch e.Text {
				case noteConnected:
					opened++
				case noteClientClosed, noteClientReset, noteRefused:
					ended++
				}
			}
			assert.Equal(t, ended >= opened, tc.drained, "events when the wait returned: %v", evs)
			if tc.drained && len(tc.later) > 0 && tc.later[0].Data != nil {
				sent, _ := bytesDir(evs, toServer)
				assert.Equal(t, string(sent), string(tc.later[0].Data), "the message is recorded before the cell is judged")
			}
		})
	}
}
