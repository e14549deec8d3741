# netgrade-hostile: reach-host
# A working udp-server that first tries to reach a listener on the host's
# loopback, over TCP and UDP, on the port the tests fill in for HOST_PORT
# (hostile.Program.Source), and prints what each attempt gave.
import socket
import sys
from datetime import datetime

HOST_PORT = 0
if HOST_PORT:
    try:
        with socket.create_connection(("127.0.0.1", HOST_PORT), timeout=2) as c:
            c.sendall(b"reach-host escaped over TCP")
        print("tcp: connected", file=sys.stderr, flush=True)
    except OSError as e:
        print(f"tcp: {type(e).__name__}", file=sys.stderr, flush=True)
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"reach-host escaped over UDP", ("127.0.0.1", HOST_PORT))
        print("udp: sent", file=sys.stderr, flush=True)
    except OSError as e:
        print(f"udp: {type(e).__name__}", file=sys.stderr, flush=True)
port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode()}"', flush=True)
