# netgrade-hostile: stdin-wait
# A udp-server that waits for its port on standard input, and keeps
# waiting when it reads the end of it: it never binds, and only its
# deadline ends its checks.
import socket
import sys
import time

print("waiting for the port on standard input", file=sys.stderr, flush=True)
print("Port: ", end="", flush=True)
line = ""
while not line:
    line = sys.stdin.readline()
    if not line:
        time.sleep(0.1)
port = int(line)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    sock.recvfrom(4096)
