# netgrade-hostile: setsid-daemon
# A working udp-server that first double-forks a daemon: the child calls
# setsid() and forks again, then exits, so that the daemon leaves the
# program's process group and loses its parent. The daemon lets go of the
# program's output, ignores SIGINT and SIGTERM, and appends to
# netgrade-hostile-daemon.log in the temporary folder a "start" line once,
# then an "alive" line every 100 ms: it must die when the check ends.
import os
import signal
import socket
import sys
import tempfile
import time
from datetime import datetime

port = int(sys.argv[1])
log = os.path.join(tempfile.gettempdir(), "netgrade-hostile-daemon.log")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        state = "start"
        while True:
            with open(log, "a") as f:
                f.write(f"{state} {os.getpid()} {time.time():.3f}\n")
            state = "alive"
            time.sleep(0.1)
    os._exit(0)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode()}"', flush=True)
