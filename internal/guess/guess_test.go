package guess_test

import (
	"testing"

	"github.com/netgrade/netgrade/fixtures"
	"github.com/netgrade/netgrade/internal/guess"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClassifyFixtures reads every sample submission of every exercise,
// good and bad (programs written as students write them, plain sockets,
// socketserver, asyncio, http.server, Flask, FastAPI): each is taken for
// its own exercise, except the few whose one mistake is to be another
// exercise's program, which are taken for what they are.
func TestClassifyFixtures(t *testing.T) {
	// These fixtures implement another exercise's concurrency model (or
	// none of the exercise's transformation): that is the mistake they
	// declare, and the file reads as that other program.
	whatTheyAre := map[string]string{
		"tcp-forking/sequential_server.py":   "tcp-waiting",
		"tcp-forking/threading_server.py":    "tcp-threading",
		"tcp-threading/forking_server.py":    "tcp-forking",
		"tcp-threading/sequential_server.py": "tcp-waiting",
		"tcp-waiting/forking.py":             "tcp-forking",
		"tcp-waiting/threading_server.py":    "tcp-threading",
		"tcp-upper/lower.py":                 "tcp-server",
	}
	all, err := fixtures.All()
	require.NoError(t, err)
	require.Greater(t, len(all), 100)
	seen := map[string]bool{}
	for _, fx := range all {
		want := fx.Exercise
		if w, ok := whatTheyAre[fx.ID()]; ok {
			want = w
			seen[fx.ID()] = true
		}
		g := guess.Classify(fx.Source)
		assert.Equal(t, want, g.Exercise, "%s (read as: %s)", fx.ID(), g.Why)
		assert.NotEmpty(t, g.Why, fx.ID())
	}
	assert.Len(t, seen, len(whatTheyAre), "every exception is a fixture")
}

// TestClassifyStudentFiles reads files as real students of the course
// wrote them, under names that say nothing (server.py, main.py).
func TestClassifyStudentFiles(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"udp server", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('', 5000))\nwhile True:\n    data, addr = s.recvfrom(1024)\n", "udp-server"},
		{"udp client", "import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))\n", "udp-client"},
		{"tcp server", "import socket\ns = socket.socket()\ns.bind(('', 5000))\ns.listen()\nc, a = s.accept()\nprint(c.recv(1024))\nc.send(b'ok')\n", "tcp-server"},
		{"tcp client", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.connect(('localhost', 5000))\ns.send(b'hi')\nprint(s.recv(1024))\n", "tcp-client"},
		{"forking socketserver", "import socketserver\nclass H(socketserver.BaseRequestHandler):\n    def handle(self):\n        self.request.sendall(self.request.recv(1024).upper())\nsocketserver.ForkingTCPServer(('', 5000), H).serve_forever()\n", "tcp-forking"},
		{"threading socketserver", "from socketserver import ThreadingTCPServer, StreamRequestHandler\n", "tcp-threading"},
		{"ticket seller, forking", "import socketserver\nticket = 0\nclass H(socketserver.BaseRequestHandler):\n    def handle(self):\n        global ticket\n        ticket += 1\nsocketserver.ForkingTCPServer(('', 5000), H)\n", "tcp-tickets"},
		{"http.server with /date", "from http.server import HTTPServer, BaseHTTPRequestHandler\nclass H(BaseHTTPRequestHandler):\n    def do_GET(self):\n        if self.path == '/date':\n            pass\n", "http-server"},
		{"flask api", "from flask import Flask\napp = Flask(__name__)\n@app.get('/api/todos')\ndef todos():\n    return []\n", "rest-api"},
		{"fastapi api", "from fastapi import FastAPI\napp = FastAPI()\n@app.get(\"/api/items\")\ndef items():\n    return []\n", "rest-api"},
		{"smtp", "import smtplib\n", "smtp-client"},
		{"pop", "import poplib\n", "pop-client"},
		{"imap", "import imaplib\n", "imap-client"},
		{"a comment is not code", "# import smtplib\nprint('hello')\n", ""},
		{"nothing of the course", "def add(a, b):\n    return a + b\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, guess.Classify([]byte(c.src)).Exercise)
		})
	}
}

// TestPropose shows the names proposed for a class's files.
func TestPropose(t *testing.T) {
	exs := []string{"udp-server", "tcp-server", "tcp-tickets"}
	defaults := map[string]string{"udp-server": "udp-server.py", "tcp-server": "tcp-server.py", "tcp-tickets": "tcp-tickets.py"}
	file := func(student, path, exercise string) guess.File {
		return guess.File{Student: student, Path: path, Guess: guess.Guess{Exercise: exercise, Why: "test"}}
	}
	cases := []struct {
		name     string
		files    []guess.File
		want     map[string][]string
		unplaced []string
	}{
		{"names students gave, the most used first after the course's",
			[]guess.File{file("a", "udp_server.py", "udp-server"), file("b", "python/server_udp.py", "udp-server"), file("c", "server_udp.py", "udp-server"), file("d", "udp-server.py", "udp-server")},
			map[string][]string{"udp-server": {"udp-server.py", "server_udp.py", "udp_server.py"}, "tcp-server": {"tcp-server.py"}, "tcp-tickets": {"tcp-tickets.py"}}, nil},
		{"one name, two exercises, told apart by their folders",
			[]guess.File{file("a", "udp/server.py", "udp-server"), file("b", "tcp/server.py", "tcp-server")},
			map[string][]string{"udp-server": {"udp-server.py", "udp/server.py"}, "tcp-server": {"tcp-server.py", "tcp/server.py"}, "tcp-tickets": {"tcp-tickets.py"}}, nil},
		{"one name, two exercises, the most files keep it",
			[]guess.File{file("a", "server.py", "tcp-server"), file("b", "server.py", "tcp-server"), file("c", "server.py", "udp-server")},
			map[string][]string{"udp-server": {"udp-server.py"}, "tcp-server": {"tcp-server.py", "server.py"}, "tcp-tickets": {"tcp-tickets.py"}}, []string{"c/server.py"}},
		{"a course name keeps its exercise",
			[]guess.File{file("a", "tcp-server.py", "tcp-tickets"), file("b", "tcp-server.py", "tcp-tickets"), file("c", "tcp-server.py", "tcp-server")},
			map[string][]string{"udp-server": {"udp-server.py"}, "tcp-server": {"tcp-server.py"}, "tcp-tickets": {"tcp-tickets.py"}}, []string{"a/tcp-server.py", "b/tcp-server.py"}},
		{"content of no exercise",
			[]guess.File{file("a", "calc.py", "")},
			map[string][]string{"udp-server": {"udp-server.py"}, "tcp-server": {"tcp-server.py"}, "tcp-tickets": {"tcp-tickets.py"}}, []string{"a/calc.py"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := guess.Propose(c.files, exs, defaults)
			got := map[string][]string{}
			for _, e := range p.Exercises {
				got[e.ID] = e.Names
			}
			assert.Equal(t, c.want, got)
			var un []string
			for _, u := range p.Unplaced {
				un = append(un, u.File.String())
				assert.NotEmpty(t, u.Reason)
			}
			assert.Equal(t, c.unplaced, un)
		})
	}
}
