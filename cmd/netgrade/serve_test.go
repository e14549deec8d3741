package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netgrade/netgrade/internal/mailserver"
	"github.com/netgrade/netgrade/internal/poll"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestServePrintsTheDialogue runs netgrade serve pop3 on a free port, has
// a client log in and quit, and reads the dialogue it printed: the
// seeded mailbox, the course's account, the password masked; Ctrl-C (the
// context) stops it with exit status 0.
func TestServePrintsTheDialogue(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve", "pop3", "--port", fmt.Sprint(port)}, &out, &errOut) }()

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	_, err = poll.Wait(wctx, func(context.Context) poll.Result {
		if strings.Contains(out.String(), "listens on") {
			return poll.Done()
		}
		return poll.Continue("not listening yet: %q %q", out.String(), errOut.String())
	})
	assert.NilError(t, err)

	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	assert.NilError(t, err)
	defer c.Close()
	assert.NilError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	r := bufio.NewReader(c)
	say := func(line string) string {
		if line != "" {
			_, err := fmt.Fprintf(c, "%s\r\n", line)
			assert.NilError(t, err)
		}
		reply, err := r.ReadString('\n')
		assert.NilError(t, err)
		return reply
	}
	assert.Check(t, is.Contains(say(""), "+OK"))
	assert.Check(t, is.Contains(say("USER "+mailserver.SeedUser), "+OK"))
	assert.Check(t, is.Contains(say("PASS "+mailserver.SeedPassword), "+OK"))
	assert.Check(t, is.Contains(say("STAT"), "+OK 4 "))
	assert.Check(t, is.Contains(say("QUIT"), "+OK"))

	_, err = poll.Wait(wctx, func(context.Context) poll.Result {
		if strings.Contains(out.String(), "C: QUIT") {
			return poll.Done()
		}
		return poll.Continue("QUIT not printed yet")
	})
	assert.NilError(t, err)
	cancel()
	select {
	case got := <-code:
		assert.Equal(t, got, exitOK, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("netgrade serve did not stop on Ctrl-C")
	}
	text := out.String()
	for _, want := range []string{"offering STLS", "user student", "4 messages", "C: USER student", "S: +OK", "C: STAT", "-- stopped"} {
		assert.Check(t, is.Contains(text, want))
	}
	assert.Check(t, !strings.Contains(text, mailserver.SeedPassword+"\n"), "the password is masked in the dialogue:\n%s", text)
}

// TestServeRefusesBadArguments: a protocol it does not serve, a port
// out of range and a port in use are usage errors that say what to give.
func TestServeRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "smtp, pop3 or imap"},
		{[]string{"serve", "http"}, "no such protocol"},
		{[]string{"serve", "smtp", "--port", "70000"}, "from 1 to 65535"},
		{[]string{"serve", "imap", "--port", taken(t)}, "in use"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		assert.Equal(t, code, exitUsage, tc.args)
		assert.Check(t, is.Contains(errOut, tc.want), tc.args)
	}
}

// taken returns a port a listener of the test holds until it ends.
func taken(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	t.Cleanup(func() { l.Close() })
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
