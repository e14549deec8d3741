# netgrade-hostile: endless-output
# limit: output
# A udp-server that, once started, prints without end on both streams at
# once, 64 KiB lines as fast as it can. The output limit must stop it.
import socket
import sys
import threading

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print(f"Started server on UDP/{port}", flush=True)
LINE = "spam " * 13107 + "\n"


def spew(stream):
    while True:
        stream.write(LINE)


threading.Thread(target=spew, args=(sys.stderr,), daemon=True).start()
spew(sys.stdout)
