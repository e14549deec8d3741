package reference

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/clock"
	"github.com/netgrade/netgrade/internal/httpwire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startHTTP runs the reference HTTP server on a free port until the test
// ends and returns its address once it has printed its start line.
func startHTTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- HTTPServer(ctx, CommandOf("http-server.py [PORT]", ""), []string{strconv.Itoa(port)}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, 0, <-done)
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case line <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-line:
		require.Equal(t, "Server started http://localhost:"+strconv.Itoa(port), l)
	case <-time.After(5 * time.Second):
		t.Fatal("the reference did not start within 5 s")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// TestHTTPServer asks the reference every route of the exercise and what
// a careless client sends.
func TestHTTPServer(t *testing.T) {
	addr := startHTTP(t)
	paris, err := clock.LoadZone(clock.ParisZone)
	require.NoError(t, err)
	local := clock.Zone{Name: "local", Loc: time.Local}
	tests := []struct {
		name   string
		req    httpwire.Request
		status int
		media  string
		zone   *clock.Zone
		json   bool
	}{
		{name: "home", req: httpwire.Request{Method: "GET", Path: "/"}, status: 200, media: "text/html"},
		{name: "date", req: httpwire.Request{Method: "GET", Path: "/date"}, status: 200, media: "text/html", zone: &local},
		{name: "Paris", req: httpwire.Request{Method: "GET", Path: "/date/paris"}, status: 200, media: "text/html", zone: &paris},
		{name: "API", req: httpwire.Request{Method: "GET", Path: "/api/date"}, status: 200, media: "application/json", zone: &local, json: true},
		{name: "HTTP/1.0", req: httpwire.Request{Method: "GET", Path: "/date", Version: "HTTP/1.0"}, status: 200, media: "text/html", zone: &local},
		{name: "unknown path", req: httpwire.Request{Method: "GET", Path: "/nope"}, status: 404},
		{name: "under a route", req: httpwire.Request{Method: "GET", Path: "/date/london"}, status: 404},
		{name: "POST", req: httpwire.Request{Method: "POST", Path: "/date", Body: []byte("x=1")}, status: 405},
		{name: "HEAD", req: httpwire.Request{Method: "HEAD", Path: "/date"}, status: 200, media: "text/html"},
		{name: "malformed", req: httpwire.Request{Raw: []byte("NOT A VALID REQUEST LINE AT ALL\r\n\r\n")}, status: 400},
		{name: "70 kB request line", req: httpwire.Request{Raw: []byte("GET /" + strings.Repeat("a", 70000) + " HTTP/1.1\r\nHost: x\r\n\r\n")}, status: 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			from := time.Now()
			x := httpwire.Do(ctx, addr, tc.req, nil)
			require.NoError(t, x.Err)
			assert.Empty(t, x.Problems)
			assert.Equal(t, tc.status, x.Response.Status)
			if tc.media != "" {
				assert.Equal(t, tc.media, x.Response.MediaType())
			}
			if tc.zone == nil {
				return
			}
			stamps := clock.Find(string(x.Response.Body))
			if tc.json {
				stamps, err = clock.FindJSON(x.Response.Body)
				require.NoError(t, err)
			}
			v := clock.Judge(stamps, clock.Window{From: from, To: x.End}, clock.Expect{Want: *tc.zone})
			assert.True(t, v.OK, v.Message)
		})
	}
	// The server is still there.
	x := httpwire.Get(context.Background(), addr, "/", nil)
	require.NoError(t, x.Err)
}

// TestHTTPServerSilentClient serves a client while another holds a
// connection without sending anything.
func TestHTTPServerSilentClient(t *testing.T) {
	addr := startHTTP(t)
	silent, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer silent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	x := httpwire.Get(ctx, addr, "/date", nil)
	require.NoError(t, x.Err)
	assert.Equal(t, 200, x.Response.Status)
}

// TestFakedClock follows libfaketime's start-at date, as a Python program
// run under it does.
func TestFakedClock(t *testing.T) {
	start := time.Now()
	now, err := fakedClock("@2026-01-15 10:00:00", start)
	require.NoError(t, err)
	want := time.Date(2026, 1, 15, 10, 0, 0, 0, time.Local)
	assert.WithinDuration(t, want, now(), time.Second)
	for _, bad := range []string{"+1d", "@15/01/2026"} {
		now, err = fakedClock(bad, start)
		assert.Error(t, err)
		assert.WithinDuration(t, time.Now(), now(), time.Second)
	}
	now, err = fakedClock("", start)
	assert.NoError(t, err)
	assert.WithinDuration(t, time.Now(), now(), time.Second)
}
