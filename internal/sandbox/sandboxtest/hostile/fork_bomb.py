# netgrade-hostile: fork-bomb
# limit: processes
# A bounded fork bomb posing as a udp-server: it binds its port, prints its
# start line, then every process forks, nine times over (up to 512
# processes, twice the default limit of 256), and each one sleeps forever.
# The bound in its code keeps a machine without a process limit alive; the
# limit is what must stop it.
import os
import socket
import sys
import time

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
for _ in range(9):
    try:
        os.fork()
    except OSError as e:
        print(f"fork failed: {e}", file=sys.stderr, flush=True)
        break
while True:
    time.sleep(1)
