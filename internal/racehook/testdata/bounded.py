# Reads a file of LINES lines line by line and writes it back in chunks,
# then has two threads each fill a dict of LINES items: with the hook, each
# costs a few delays, not one per line or item. Prints the elapsed seconds
# of each part as JSON.
#
#   python3 bounded.py LINES DIR
import json
import os
import sys
import threading
import time

lines, folder = int(sys.argv[1]), sys.argv[2]
path = os.path.join(folder, "lines.txt")
with open(path, "w") as f:
    for i in range(lines):
        f.write(f"line {i}\n")

start = time.monotonic()
with open(path) as f:
    got = [line for line in f]
with open(path, "w") as f:
    for line in got:
        f.write(line)
files = time.monotonic() - start

table = {}


def fill(key):
    for i in range(lines):
        table[key, i] = i


start = time.monotonic()
threads = [threading.Thread(target=fill, args=(k,)) for k in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
stores = time.monotonic() - start
assert len(table) == 2 * lines
print(json.dumps({"files": files, "stores": stores}))
