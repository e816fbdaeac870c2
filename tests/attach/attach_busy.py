"""attach_busy.py N - a busy python3 for attach_real.sh: a thread churns
bytes objects of 1000 bytes all the while; each line on stdin makes
grow() append N more to a global list and print "step K LEN"; at the end
of input the thread stops and "done" is printed."""
import sys
import threading

N = int(sys.argv[1])
kept = []
stop = threading.Event()


def churn():
    while not stop.is_set():
        junk = [bytes(1000) for _ in range(100)]
        del junk


def grow():
    for i in range(N):
        kept.append(bytearray(1000))


t = threading.Thread(target=churn)
t.start()
for k, _ in enumerate(sys.stdin, 1):
    grow()
    print("step", k, len(kept), flush=True)
stop.set()
t.join()
print("done", flush=True)
