package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/netgrade/netgrade/course"
	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/harness"
	"github.com/netgrade/netgrade/internal/interop"
	"github.com/netgrade/netgrade/internal/pyenv"
	"github.com/netgrade/netgrade/internal/sandbox"
	"gotest.tools/v3/assert"
)

// env is the cells' environment: the course's references, one port
// allocator for every test of the package.
var env = interop.Env{
	Reference: func(ex string) (interop.RefFunc, error) {
		p, err := course.Reference(ex)
		if err != nil {
			return nil, err
		}
		return p.Run, nil
	},
	Interpreters: pyenv.NewInterpreters(),
	Ports:        harness.NewPorts(7),
}

// hardPort is the port this test binary's copies of the fixtures that
// hard-code a port (8888, 1234) bind instead (see ownPort).
var hardPort = sync.OnceValue(func() string {
	for p := 12000 + os.Getpid()%4000; p < 20000; p += 7 {
		u, err := net.ListenPacket("udp", fmt.Sprintf("0.0.0.0:%d", p))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", p))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return strconv.Itoa(p)
	}
	return "8888"
})

// ownPort returns a fixture's source with a hard-coded port (udp-server's
// 8888, tcp-server's PORT = 1234) changed to hardPort: a port below netgrade's range, free when chosen, that no other
// test binary of `make test` grades on. In the process sandbox the cells
// bind the machine's own ports, and the course's fixture tests, in another
// test binary beside this one, grade the same fixtures on 8888; a program
// of one could take the other's port, and a cell that meets "Address
// already in use" is grey, where the mistake under test (a port of its own
// choosing) makes it red. Which fixed port a program chooses changes
// nothing of that mistake.
func ownPort(src []byte) []byte {
	src = bytes.ReplaceAll(src, []byte("PORT = 1234"), []byte("PORT = "+hardPort()))
	return bytes.ReplaceAll(src, []byte("8888"), []byte(hardPort()))
}

// fixtureFile writes a fixture into dir and returns its name.
func fixtureFile(t *testing.T, dir, id string) string {
	t.Helper()
	all, err := fixtures.All()
	assert.NilError(t, err)
	for _, f := range all {
		if f.ID() == id {
			name := filepath.Base(id)
			assert.NilError(t, os.WriteFile(filepath.Join(dir, name), ownPort(f.Source), 0o644))
			return name
		}
	}
	t.Fatalf("no fixture %s", id)
	return ""
}

// runCell runs one cell in the process sandbox: "" is the reference.
func runCell(t *testing.T, p interop.ExercisePair, client, server string) interop.Outcome {
	t.Helper()
	dir := t.TempDir()
	req := interop.Request{Client: p.Client, Server: p.Server, Proto: p.Proto, Message: interop.Message,
		LogLine: `[{asctime}] client {ip} sent "{message}"`}
	if p.Proto != "udp" {
		req.LogLine = ""
	}
	pair := sandbox.Pair{Name: t.Name(), TimeoutMS: interop.Timeout(1).Milliseconds()}
	side := func(id string) interop.Side {
		if id == "" {
			return interop.Side{Student: "ref", Ref: true}
		}
		pair.Programs = append(pair.Programs, sandbox.PairProgram{Student: id, Dir: dir, Path: fixtureFile(t, dir, id)})
		return interop.Side{Student: id, Program: len(pair.Programs) - 1}
	}
	req.ClientSide, req.ServerSide = side(client), side(server)
	var err error
	pair.Request, err = json.Marshal(req)
	assert.NilError(t, err)
	raw, err := sandbox.RunPair(context.Background(), sandbox.NewProcess(nil, nil), pair, env.Run)
	assert.NilError(t, err)
	var out interop.Outcome
	assert.NilError(t, json.Unmarshal(raw, &out))
	return out
}

func TestCells(t *testing.T) {
	os.Unsetenv("PYTHONUNBUFFERED")
	udp, tcp, upper := interop.Pairs()[0], interop.Pairs()[1], interop.Pairs()[2]
	cases := []struct {
		pair           interop.ExercisePair
		client, server string
		verdict        interop.Verdict
		diagnosis      string
	}{
		{udp, "udp-client/plain.py", "", interop.Green, ""},
		{udp, "", "udp-server/plain.py", interop.Green, ""},
		{udp, "udp-client/plain.py", "udp-server/logging_module.py", interop.Green, ""},
		{udp, "udp-client/latin1_encode.py", "", interop.Amber, "latin1-client"},
		{udp, "udp-client/utf16.py", "", interop.Amber, "utf16-client"},
		{udp, "udp-client/first_word.py", "", interop.Amber, "part-message"},
		{udp, "udp-client/waits_reply.py", "", interop.Amber, "waits-reply"},
		{udp, "udp-client/indentation_error.py", "", interop.Grey, "client-no-start"},
		{udp, "udp-client/hardcoded_port.py", "", interop.Red, "nothing-sent"},
		{udp, "", "udp-server/bytes_message.py", interop.Amber, "server-bytes"},
		{udp, "", "udp-server/latin1_decode.py", interop.Amber, "latin1-server"},
		{udp, "", "udp-server/hardcoded_port.py", interop.Red, "other-port"},
		{udp, "", "udp-server/indentation_error.py", interop.Grey, "server-no-start"},
		{tcp, "tcp-client/plain.py", "", interop.Green, ""},
		{tcp, "", "tcp-server/plain.py", interop.Green, ""},
		{tcp, "tcp-client/bytes_print.py", "", interop.Amber, "client-bytes"},
		{tcp, "tcp-client/latin1_reply.py", "", interop.Amber, "latin1-print"},
		{tcp, "tcp-client/connects_only.py", "", interop.Red, "nothing-sent"},
		{tcp, "tcp-client/recv_until_eof.py", "", interop.Amber, "waits-close"},
		{tcp, "", "tcp-server/bytes_print.py", interop.Amber, "server-bytes"},
		{tcp, "", "tcp-server/latin1_decode.py", interop.Amber, "latin1-server"},
		{tcp, "", "tcp-server/reads_to_eof.py", interop.Amber, "waits-eof"},
		// One client, then it exits: its line comes with its last output.
		{tcp, "", "tcp-server/accept_once.py", interop.Green, ""},
		{upper, "tcp-client/plain.py", "", interop.Green, ""},
		{upper, "", "tcp-upper/course.py", interop.Green, ""},
		{upper, "", "tcp-upper/lower.py", interop.Amber, "not-upper"},
		{upper, "", "tcp-upper/latin1.py", interop.Amber, "reply-not-utf8"},
		// A reply sent a byte at a time reaches a client that reads once
		// whole: how the pieces fall is not the cell's to judge.
		{upper, "tcp-client/plain.py", "tcp-upper/byte_at_a_time.py", interop.Green, ""},
		{upper, "tcp-client/shutdown_write.py", "tcp-upper/unicode_upper.py", interop.Green, ""},
		{tcp, "tcp-client/shutdown_write.py", "tcp-server/plain.py", interop.Green, ""},
	}
	for _, tc := range cases {
		t.Run(tc.pair.ID()+"/"+tc.client+"×"+tc.server, func(t *testing.T) {
			t.Parallel()
			out := runCell(t, tc.pair, tc.client, tc.server)
			t.Logf("%s: %s\nclient: %q\nserver: %q\nwire: %q", out.Verdict, out.Reason, out.ClientLog, out.ServerLog, out.Wire)
			assert.Equal(t, out.Verdict, tc.verdict, out.Reason)
			assert.Equal(t, out.Diagnosis, tc.diagnosis, out.Reason)
		})
	}
}
