# netgrade-hostile: write-outside
# A working udp-server that first tries to write a file outside its
# scratch space: in its own folder, in the folder above, in the home
# folder and in /tmp (hostile.EscapePaths lists them), and one in the
# temporary folder it is given, which every sandbox allows. It prints what
# each attempt gave.
import os
import socket
import sys
import tempfile
from datetime import datetime

here = os.path.dirname(os.path.abspath(__file__))
name = os.path.basename(here)
targets = [
    os.path.join(here, "netgrade-escaped.txt"),
    os.path.join(here, "..", f"netgrade-escaped-{name}.txt"),
    os.path.join(os.path.expanduser("~"), f"netgrade-escaped-{name}.txt"),
    f"/tmp/netgrade-escaped-{name}.txt",
    os.path.join(tempfile.gettempdir(), "netgrade-scratch.txt"),
]
for t in targets:
    try:
        with open(t, "a") as f:
            f.write("written by a graded program\n")
        print(f"write {t}: ok", file=sys.stderr, flush=True)
    except OSError as e:
        print(f"write {t}: {type(e).__name__}", file=sys.stderr, flush=True)
port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode()}"', flush=True)
