package harness

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPortFreeRejectsTimeWait: a port still held by a connection in
// TIME_WAIT cannot be bound by a server that does not set SO_REUSEADDR (as
// students' servers do not), so the allocator must not hand it out, even
// when the connection came from a server that did set it (Go's listeners).
func TestPortFreeRejectsTimeWait(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.False(t, portFree(port), "a listening port is not free")

	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server, err := ln.Accept()
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	// The server closes first: its side of the connection, on port, goes
	// to TIME_WAIT once the client has closed too.
	require.NoError(t, server.Close())
	buf := make([]byte, 1)
	_, _ = client.Read(buf)
	require.NoError(t, client.Close())

	require.False(t, portFree(port), "port %d is in TIME_WAIT: a server without SO_REUSEADDR cannot bind it", port)
}
