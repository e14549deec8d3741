# netgrade-hostile: cpu-spinner
# A working udp-server that keeps four threads spinning on the CPU while it
# serves: its checks must still end with a verdict within their deadlines.
import socket
import sys
import threading
from datetime import datetime


def spin():
    n = 0
    while True:
        n += 1


for _ in range(4):
    threading.Thread(target=spin, daemon=True).start()
port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    now = datetime.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S") + f",{now.microsecond // 1000:03d}"
    print(f'[{stamp}] client {addr[0]} sent "{data.decode()}"', flush=True)
