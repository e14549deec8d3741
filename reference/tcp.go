package reference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tcpListen parses a TCP server's PORT argument and listens on it on every
// address; the listener is closed when ctx ends. On failure it returns nil
// and the exit status.
func tcpListen(ctx context.Context, cmd Command, args []string, stderr io.Writer) (*net.TCPListener, int) {
	port, code := portArg(stderr, cmd, args)
	if code != 0 {
		return nil, code
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: port})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name, err)
		return nil, 1
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	return ln, 0
}

// acceptNext accepts the next connection, past accept timeouts; ok is
// false when the server must end (code is then its exit status).
func acceptNext(ctx context.Context, name string, ln *net.TCPListener, stderr io.Writer) (conn *net.TCPConn, code int, ok bool) {
	for {
		c, err := ln.AcceptTCP()
		if err == nil {
			return c, 0, true
		}
		if ctx.Err() != nil {
			return nil, 0, false
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, 1, false
	}
}

// serveSequential accepts clients one after the other and hands each to
// handle, closing the connection when handle returns, until ctx ends.
func serveSequential(ctx context.Context, name string, ln *net.TCPListener, stderr io.Writer, handle func(conn net.Conn, ip string)) int {
	for {
		conn, code, ok := acceptNext(ctx, name, ln, stderr)
		if !ok {
			return code
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		handle(conn, clientIP(conn))
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return 0
		}
	}
}

// clientIP returns the IP address of a connection's peer, IPv4 addresses
// in their dotted form even on a dual-stack socket.
func clientIP(conn net.Conn) string {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		if v4 := a.IP.To4(); v4 != nil {
			return v4.String()
		}
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	return host
}

// text decodes bytes as UTF-8, invalid bytes replaced.
func text(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// TCPServer listens on TCP PORT; for each client, one after the other, it
// prints every message the client sends and answers it with a text, until
// the client closes; then it accepts the next client.
func TCPServer(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	return serveSequential(ctx, cmd.Name, ln, stderr, func(conn net.Conn, ip string) {
		buf := make([]byte, 1024)
		for {
			n, err := conn.Read(buf)
			if n > 0 {
				msg := text(buf[:n])
				fmt.Fprintf(stdout, "Received from %s: %s\n", ip, msg)
				if _, err := conn.Write([]byte("Message received: " + msg)); err != nil {
					return
				}
			}
			if err != nil {
				return // the client has closed (or reset): next client
			}
		}
	})
}

// TCPClient connects to HOST:PORT, sends MESSAGE, prints the reply (one
// read, as the course's recv(1024)), closes and exits.
func TCPClient(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	port, code := portArg(stderr, cmd, args)
	if code != 0 {
		return code
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(args[0], strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "tcp-client: %v\n", err)
		return 1
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write([]byte(args[2])); err != nil {
		fmt.Fprintf(stderr, "tcp-client: %v\n", err)
		return 1
	}
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if n == 0 {
		fmt.Fprintf(stderr, "tcp-client: no reply from the server: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, text(buf[:n]))
	return 0
}

// pyWhitespace is what Python's bytes.strip() removes.
const pyWhitespace = " \t\n\r\x0b\x0c"

// upper upper-cases data as text when it is UTF-8, else its ASCII letters.
func upper(data []byte) []byte {
	if utf8.Valid(data) {
		return []byte(strings.ToUpper(string(data)))
	}
	return bytes.ToUpper(data) // bytes.ToUpper leaves invalid bytes as they are
}

// receiveStripped reads once (as recv(1024)) and strips the data.
func receiveStripped(conn net.Conn) []byte {
	buf := make([]byte, 1024)
	n, _ := conn.Read(buf)
	return bytes.Trim(buf[:n], pyWhitespace)
}

// TCPUpper is the course's socketserver example: for each connection,
// receive, strip, print `{ip} wrote:` and ` {data}`, answer the data
// upper-cased, close.
func TCPUpper(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	return serveSequential(ctx, cmd.Name, ln, stderr, func(conn net.Conn, ip string) {
		data := receiveStripped(conn)
		fmt.Fprintf(stdout, "%s wrote:\n %s\n", ip, text(data))
		_, _ = conn.Write(upper(data))
	})
}

// TCPWaiting is the sequential waiting server: for each connection,
// receive, strip, wait len(data) seconds (bytes), answer the data
// upper-cased, close; one client at a time.
func TCPWaiting(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	ln, code := tcpListen(ctx, cmd, args, stderr)
	if ln == nil {
		return code
	}
	return serveSequential(ctx, cmd.Name, ln, stderr, func(conn net.Conn, ip string) {
		data := receiveStripped(conn)
		delay := len(data)
		fmt.Fprintf(stdout, "%s waiting for %d seconds\n", ip, delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(delay) * time.Second):
		}
		fmt.Fprintf(stdout, "%s answered\n", ip)
		_, _ = conn.Write(upper(data))
	})
}
