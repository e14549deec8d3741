package reference

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// AsctimeLayout is Python logging's default asctime, in Go's notation.
const AsctimeLayout = "2006-01-02 15:04:05,000"

// UDPServer binds UDP PORT on every address, prints the start line, and
// logs each datagram as `[asctime] client IP sent "MSG"` until ctx ends.
func UDPServer(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	port, code := portArg(stderr, cmd, args)
	if code != 0 {
		return code
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
	if err != nil {
		fmt.Fprintf(stderr, "udp-server: %v\n", err)
		return 1
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	fmt.Fprintf(stdout, "Started server on UDP/%d\n", port)
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			fmt.Fprintf(stderr, "udp-server: %v\n", err)
			return 1
		}
		at := time.Now()
		msg := strings.ToValidUTF8(string(buf[:n]), "\uFFFD")
		ip := from.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		fmt.Fprintf(stdout, "[%s] client %s sent \"%s\"\n", at.Format(AsctimeLayout), ip, msg)
	}
}

// UDPClient sends MESSAGE as one UTF-8 datagram to HOST:PORT and exits.
func UDPClient(ctx context.Context, cmd Command, args []string, stdout, stderr io.Writer) int {
	port, code := portArg(stderr, cmd, args)
	if code != 0 {
		return code
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp4", net.JoinHostPort(args[0], strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "udp-client: %v\n", err)
		return 1
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(args[2])); err != nil {
		fmt.Fprintf(stderr, "udp-client: %v\n", err)
		return 1
	}
	return 0
}
