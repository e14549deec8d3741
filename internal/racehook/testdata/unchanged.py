# A correct program that uses files in many ways and threads under a lock:
# it prints the same with netgrade's race hook as without.
#
#   python3 unchanged.py DIR
import fcntl
import json
import os
import pathlib
import sys
import threading

folder = sys.argv[1]
path = os.path.join(folder, "data.txt")

with open(path, "w", encoding="utf-8") as f:
    f.write("one\n")
    f.writelines(["two\n", "três\n"])
    print("three lines", file=f)
with open(path, encoding="utf-8") as f:
    print("read:", repr(f.read()))
with open(path, encoding="utf-8") as f:
    print("lines:", [line.strip() for line in f])
with open(path, encoding="utf-8") as f:
    print("readline:", repr(f.readline()), "readlines:", f.readlines())
with open(path, "rb") as f:
    buf = bytearray(5)
    n = f.readinto(buf)
    print("binary:", f.read(3), n, bytes(buf), f.tell(), f.name == path, f.closed)
print("closed after with:", f.closed)

f = open(path, "a", encoding="utf-8")
f.write("appended\n")
f.close()
print("isatty:", open(path).isatty(), "mode:", open(path, "r+").mode)

p = pathlib.Path(folder, "state.json")
p.write_text(json.dumps({"count": 1}))
state = json.loads(p.read_text())
with open(p, "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    state = json.load(f)
    state["count"] += 1
    f.seek(0)
    json.dump(state, f)
    f.truncate()
    fcntl.flock(f, fcntl.LOCK_UN)
print("json:", p.read_text())

fd = os.open(os.path.join(folder, "raw"), os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
os.write(fd, b"raw bytes")
os.lseek(fd, 0, os.SEEK_SET)
print("os:", os.read(fd, 100))
fcntl.lockf(fd, fcntl.LOCK_UN)
os.close(fd)
with os.fdopen(os.open(path, os.O_RDONLY)) as f:
    print("fdopen:", f.readline().strip())

total = 0
lock = threading.Lock()


class Box:
    value = 0


box = Box()
items = {}


def add(i):
    global total
    for _ in range(5):
        with lock:
            total += i
            box.value += 1
            items[i] = items.get(i, 0) + 1


threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads:", total, box.value, sorted(items.items()))
