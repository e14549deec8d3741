package similarity

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The test class: programs of one exercise (an upper-casing TCP server)
// written independently, in the ways students write them, and planted
// pairs made from them by the test.

// slides is the course slides' socketserver example: base code every
// student was given.
const slides = `import socketserver


class MyTCPHandler(socketserver.BaseRequestHandler):
    """
    The request handler class for our server.

    It is instantiated once per connection to the server, and must
    override the handle() method to implement communication to the
    client.
    """

    def handle(self):
        # self.request is the TCP socket connected to the client
        self.data = self.request.recv(1024).strip()
        print("{} wrote:".format(self.client_address[0]))
        print(self.data)
        # just send back the same data, but upper-cased
        self.request.sendall(self.data.upper())


if __name__ == "__main__":
    HOST, PORT = "localhost", 9999

    # Create the server, binding to localhost on port 9999
    with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
        # Activate the server; this will keep running until you
        # interrupt the program with Ctrl-C
        server.serve_forever()
`

// independent are programs written apart from each other.
var independent = map[string]string{
	"ana": `import socket
import sys


def serve(conn, addr):
    data = conn.recv(1024)
    text = data.decode("utf-8").strip()
    print("received", text, "from", addr[0])
    conn.sendall(text.upper().encode("utf-8"))
    conn.close()


def main():
    if len(sys.argv) != 2:
        print("Usage: tcp-upper.py PORT")
        sys.exit(1)
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("", port))
    s.listen(5)
    while True:
        conn, addr = s.accept()
        serve(conn, addr)


main()
`,
	"bao": `#!/usr/bin/env python3
"""Upper-case server on socketserver's stream handler."""
import socketserver as ss
from sys import argv, exit

class Upper(ss.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline()
        answer = line.strip().upper()
        self.wfile.write(answer)

try:
    p = int(argv[1])
except (IndexError, ValueError):
    print("Usage: server.py PORT")
    exit(2)

srv = ss.TCPServer(("", p), Upper)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    srv.server_close()
`,
	"chi": `import sys, socket

BUF = 4096

if len(sys.argv) < 2:
    sys.stderr.write("Usage: %s PORT\n" % sys.argv[0])
    raise SystemExit(1)

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", int(sys.argv[1])))
listener.listen()
print(f"listening on {sys.argv[1]}")
try:
    while 1:
        client, where = listener.accept()
        with client:
            chunk = client.recv(BUF)
            if not chunk:
                continue
            reply = chunk.decode().strip().upper()
            client.send(reply.encode())
            print(where, "->", reply)
except KeyboardInterrupt:
    pass
finally:
    listener.close()
`,
	"dan": `import socket
import sys
import logging

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
log = logging.getLogger("upper")


class UpperServer:
    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    def start(self):
        self.sock.bind(("", self.port))
        self.sock.listen(1)
        log.info("serving on %d", self.port)

    def one(self):
        c, a = self.sock.accept()
        f = c.makefile("rwb")
        msg = f.readline().strip()
        log.info("%s said %r", a, msg)
        f.write(msg.upper())
        f.flush()
        f.close()
        c.close()

    def run(self):
        self.start()
        while True:
            self.one()


if __name__ == "__main__":
    try:
        UpperServer(int(sys.argv[1])).run()
    except IndexError:
        print("Usage: python3 tcp-upper.py PORT")
        sys.exit(1)
`,
	"eva": `from socket import *
import sys
n = len(sys.argv)
if n != 2:
    print('Usage: tcp-upper.py PORT'); sys.exit(1)
sock = socket(AF_INET, SOCK_STREAM)
sock.bind(('', int(sys.argv[1])))
sock.listen(10)
count = 0
while True:
    cs, ca = sock.accept()
    count = count + 1
    b = b''
    while not b.endswith(b'\n'):
        part = cs.recv(1)
        if part == b'':
            break
        b += part
    cs.sendall(b.strip().upper())
    print('client', count, ca, b)
    cs.shutdown(SHUT_RDWR)
    cs.close()
`,
	"fay": `import socket, sys


def usage():
    print("Usage: tcp-upper.py PORT", file=sys.stderr)
    return 1


def make_listener(port):
    srv = socket.create_server(("", port))
    return srv


def answer(sock):
    raw = b""
    while True:
        piece = sock.recv(256)
        raw += piece
        if not piece or b"\n" in raw:
            break
    return raw.decode("utf-8", "replace").strip().upper().encode("utf-8")


def loop(srv):
    while True:
        peer, _ = srv.accept()
        try:
            peer.sendall(answer(peer))
        finally:
            peer.close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit(usage())
    loop(make_listener(int(sys.argv[1])))
`,
}

// withSlides are two programs built on the slides' example, each with its
// own additions: they share the base code only.
var withSlides = map[string]string{
	"gus": slides + `

def check_args():
    import sys
    if len(sys.argv) != 2:
        print("Usage: tcp-upper.py PORT")
        sys.exit(1)
    return int(sys.argv[1])
`,
	"hal": `# my version: the port comes from the command line
import sys
if len(sys.argv) < 2:
    raise SystemExit("Usage: tcp-upper.py PORT")
PORTNUMBER = int(sys.argv[1])
` + slides,
}

// renameRe finds the identifiers rename changes.
var renameRe = regexp.MustCompile(`\b(serve|conn|addr|data|text|main|port|s)\b`)

// rename is a copy with its names changed.
func rename(src string) string {
	names := map[string]string{"serve": "handle_client", "conn": "c", "addr": "client_address", "data": "received",
		"text": "message", "main": "run_server", "port": "port_number", "s": "server_socket"}
	return renameRe.ReplaceAllStringFunc(src, func(w string) string { return names[w] })
}

// reorder is a copy with its top-level functions in the reverse order and
// its comments and docstrings changed.
func reorder(src string) string {
	parts := strings.Split(src, "\n\n\n")
	head, defs, tail := parts[0], parts[1:len(parts)-1], parts[len(parts)-1]
	var out []string
	out = append(out, "# Upper-case server, TP 3\n"+head)
	for i := len(defs) - 1; i >= 0; i-- {
		out = append(out, "# helper\n"+defs[i])
	}
	out = append(out, tail)
	return strings.Join(out, "\n\n\n")
}

// writeClass writes the test class under dir, one file per student, and
// returns the paths by student.
func writeClass(dir string) (map[string]string, error) {
	files := map[string]string{}
	for id, src := range independent {
		files[id] = src
	}
	for id, src := range withSlides {
		files[id] = src
	}
	files["ana-renamed"] = rename(independent["ana"])
	files["fay-reordered"] = reorder(independent["fay"])
	paths := map[string]string{}
	for id, src := range files {
		p := filepath.Join(dir, id, "tcp-upper.py")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		paths[id] = p
	}
	return paths, nil
}
