# netgrade-hostile: memory-hog
# limit: memory
# A udp-server that first fills 6 GiB of memory, 1 GiB at a time, each
# page written so that the memory is really used, then serves. The memory
# limit must stop it long before: at its first chunk, so that a loaded
# machine cannot end the check before the limit is reached.
import socket
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
hog = []
for _ in range(6):
    hog.append(b"\x01" * (1 << 30))
print("holding 6 GiB", flush=True)
while True:
    data, addr = sock.recvfrom(4096)
    print(f'client {addr[0]} sent "{data.decode()}"', flush=True)
