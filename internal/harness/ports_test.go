package harness

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPortFreeTimeWait: a port whose server side of a connection is in
// TIME_WAIT (the server closed first) cannot be bound by a program that
// does not set SO_REUSEADDR, so PortFree must not hand it out.
func TestPortFreeTimeWait(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	client, err := net.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	server, err := ln.Accept()
	require.NoError(t, err)
	require.NoError(t, server.Close()) // the server closes first: TIME_WAIT on its side
	_, err = io.ReadAll(client)
	require.NoError(t, err)
	require.NoError(t, client.Close())
	require.NoError(t, ln.Close())

	// Go's own listener (SO_REUSEADDR) still binds it...
	l2, err := net.Listen("tcp4", ln.Addr().String())
	require.NoError(t, err, "a listener with SO_REUSEADDR binds a port in TIME_WAIT")
	require.NoError(t, l2.Close())
	// ...but a student's socket would not, and PortFree says so.
	require.False(t, PortFree(port), "port %d has a connection in TIME_WAIT", port)

	// A port nobody used is free.
	fresh, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	freePort := fresh.Addr().(*net.TCPAddr).Port
	require.NoError(t, fresh.Close())
	require.True(t, PortFree(freePort))
}
