"""real_python_grow.py N - the patient of real_python.sh.

A global list that keeps growing: at each step N bytes objects of SIZE
bytes are appended, then the script prints "step K LEN" and waits for a
line on stdin (the driver takes a snapshot meanwhile). A second thread
churns dictionaries and strings the whole time, in bounded memory, so the
snapshots land while the interpreter works. Everything it prints is
deterministic, so the output can be compared with and without the shim;
"object SIZE" is the size CPython asks malloc for one of those objects."""
import hashlib
import sys
import threading

N = int(sys.argv[1])
SIZE = 4000
STEPS = 3
leak = []
stop = threading.Event()


def churn():
    table = {}
    i = 0
    while not stop.is_set():
        table[i % 256] = ("churn-%d" % i) * 3
        i += 1


def grow(step):
    for i in range(N):
        leak.append(bytes([step]) * SIZE)


print("object", sys.getsizeof(bytes(SIZE)), flush=True)
worker = threading.Thread(target=churn, name="churn")
worker.start()
for step in range(1, STEPS + 1):
    grow(step)
    print("step", step, len(leak), flush=True)
    sys.stdin.readline()
stop.set()
worker.join()
digest = hashlib.sha256(b"".join(leak)).hexdigest()
print("done", len(leak), sum(map(len, leak)), digest, flush=True)
