package probe_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/netgrade/netgrade/graders"
	"github.com/netgrade/netgrade/graders/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// piece is what a test server sends, after a pause.
type piece struct {
	after time.Duration
	data  string
}

// replyServer accepts one connection, sends the pieces, then closes when
// closeAfter is set or waits for the client to leave.
func replyServer(t *testing.T, pieces []piece, closeAfter bool) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for _, p := range pieces {
			time.Sleep(p.after) // the program's own pause, as a "please wait" seller's
			if _, err := c.Write([]byte(p.data)); err != nil {
				return
			}
		}
		if !closeAfter {
			_, _ = c.Read(make([]byte, 1)) // until the client leaves
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestReadReply: a reply is read whole, as a client reads it, until what
// the check judges came (and its time is that of the piece that holds
// it), the program closed, or it went quiet after sending; never the
// first piece.
func TestReadReply(t *testing.T) {
	ticket := func(d []byte) int {
		i := bytes.Index(d, []byte("number 7\n"))
		if i < 0 {
			return 0
		}
		return i + len("number 7\n")
	}
	cases := []struct {
		name       string
		pieces     []piece
		closeAfter bool
		idle       time.Duration
		want       string
		complete   bool
		eof, quiet bool
		// judgedAfter is the least time from the start to the piece that
		// holds what is judged (the "please wait" pause).
		judgedAfter time.Duration
	}{
		{"please wait, then the answer", []piece{{0, "please wait for 2 seconds\n"}, {300 * time.Millisecond, "your ticket number 7\n"}}, false, time.Second,
			"please wait for 2 seconds\nyour ticket number 7\n", true, false, false, 300 * time.Millisecond},
		{"a byte at a time", []piece{{0, "num"}, {20 * time.Millisecond, "ber"}, {20 * time.Millisecond, " 7\n"}}, false, time.Second,
			"number 7\n", true, false, false, 40 * time.Millisecond},
		{"closed without the answer", []piece{{0, "sorry, sold out\n"}}, true, time.Second,
			"sorry, sold out\n", false, true, false, 0},
		{"quiet after a first piece", []piece{{0, "please wait\n"}}, false, 200 * time.Millisecond,
			"please wait\n", false, false, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port := replyServer(t, c.pieces, c.closeAfter)
			tt := graders.NewT(t.Context(), &graders.Exercise{ID: "x"}, graders.Settings{})
			conn, err := probe.DialTCP(tt, port)
			require.NoError(t, err)
			defer conn.Close()
			start := time.Now()
			r := conn.ReadReplyFor(5*time.Second, c.idle, ticket)
			assert.Equal(t, c.want, string(r.Data))
			assert.Equal(t, c.complete, r.Complete())
			assert.Equal(t, c.eof, r.EOF)
			assert.Equal(t, c.quiet, r.Quiet)
			if c.complete {
				assert.GreaterOrEqual(t, r.At.Sub(start), c.judgedAfter, "the time is the judged piece's, not the first byte's")
				assert.Equal(t, r.At, conn.ArrivedAt(r.Judged))
			}
		})
	}
}
