# Counts with WORKERS processes or threads at once, each adding one to a
# shared counter, TRIALS times (BATCH trials at a time, each with a counter
# of its own), and prints the final counts as JSON: WORKERS each when no
# increment was lost. KIND is how the counter is shared and (not) locked.
#
#   python3 counter.py KIND TRIALS BATCH WORKERS DIR
import fcntl
import json
import os
import sys
import threading
import time

kind, trials, batch, workers, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


# Processes sharing a counter in a file.
def file_read_then_flock(path):
    with open(path, "r+") as f:
        number = int(f.read())
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.write(str(number + 1))
        f.truncate()
        fcntl.flock(f, fcntl.LOCK_UN)


def file_no_lock(path):
    with open(path) as f:
        number = int(f.read() or "0")  # empty while another truncates
    with open(path, "w") as f:
        f.write(str(number + 1))


def file_flock(path):
    with open(path, "r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        number = int(f.read())
        f.seek(0)
        f.write(str(number + 1))
        f.truncate()


def file_lockf_os(path):
    fd = os.open(path, os.O_RDWR)
    try:
        os.lockf(fd, os.F_LOCK, 0)
        number = int(os.read(fd, 100))
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(number + 1).encode())
        os.lockf(fd, os.F_ULOCK, 0)
    finally:
        os.close(fd)


# Threads sharing a global counter.
counters = {}
locks = {}  # one lock per trial, shared by its threads
boxes = {}  # one counter in a list per trial


def threads_sleep0(key):
    count = counters[key]
    time.sleep(0)
    counters[key] = count + 1


def threads_plus_equals(key):
    counters[key] += 1


def threads_three_statements(key):
    # A REST handler's id race: read, build the item, write back.
    box = boxes[key]
    i = box[0]
    item = dict(id=i, title="x")
    box[0] = i + 1
    counters[key] = box[0]


def threads_lock_inside(key):
    lock = threading.Lock()
    with lock:
        count = counters[key]
        counters[key] = count + 1


def threads_lock(key):
    with locks[key]:
        count = counters[key]
        time.sleep(0)
        counters[key] = count + 1


def run_files(work, trial_ids):
    paths = [os.path.join(folder, f"count-{i}") for i in trial_ids]
    for p in paths:
        with open(p, "w") as f:
            f.write("0")
    pids = []
    for p in paths:
        for _ in range(workers):
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    work(p)
                except BaseException:
                    code = 1
                os._exit(code)
            pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(f"a worker failed with status {status}")
    result = []
    for p in paths:
        with open(p) as f:
            result.append(int(f.read()))
    return result


def run_threads(work, trial_ids):
    for i in trial_ids:
        counters[i] = 0
        locks[i] = threading.Lock()
        boxes[i] = [0]
    ts = [threading.Thread(target=work, args=(i,)) for i in trial_ids for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return [counters[i] for i in trial_ids]


kinds = {
    "file-read-then-flock": (run_files, file_read_then_flock),
    "file-no-lock": (run_files, file_no_lock),
    "file-flock": (run_files, file_flock),
    "file-lockf": (run_files, file_lockf_os),
    "threads-sleep0": (run_threads, threads_sleep0),
    "threads-plus-equals": (run_threads, threads_plus_equals),
    "threads-lock-inside": (run_threads, threads_lock_inside),
    "threads-three-statements": (run_threads, threads_three_statements),
    "threads-lock": (run_threads, threads_lock),
}
runner, work = kinds[kind]
finals = []
for start in range(0, trials, batch):
    finals += runner(work, range(start, min(start + batch, trials)))
print(json.dumps(finals))
