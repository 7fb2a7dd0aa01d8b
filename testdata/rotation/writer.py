"""An application logging through Python's own handlers, for rotation tests.

Every line is "seq=NNNNNNNNNN" and a fixed payload, so a reader can tell a
lost, repeated, reordered, torn or merged line. The handler is one of:

  rotating   RotatingFileHandler (size-based, renames NAME.1 -> NAME.2 ...)
  timed      TimedRotatingFileHandler, every second (NAME.YYYY-MM-DD_HH-MM-SS)
  watched    WatchedFileHandler: reopens when the path leads to a new file
             (logrotate's create)
  plain      FileHandler in append mode, never reopened (copytruncate)
  reopen     FileHandler reopened on SIGUSR1 (create + postrotate signal)

It prints the number of lines written when it ends (after --seconds, or on
SIGTERM).
"""

import argparse
import logging
import logging.handlers
import os
import signal
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--path", required=True)
    p.add_argument("--handler", required=True,
                   choices=["rotating", "timed", "watched", "plain", "reopen"])
    p.add_argument("--rate", type=int, default=2000, help="lines per second")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--max-bytes", type=int, default=200_000)
    p.add_argument("--pidfile")
    a = p.parse_args()

    if a.handler == "rotating":
        h = logging.handlers.RotatingFileHandler(a.path, maxBytes=a.max_bytes, backupCount=100000)
    elif a.handler == "timed":
        h = logging.handlers.TimedRotatingFileHandler(a.path, when="S", interval=1, backupCount=100000)
    elif a.handler == "watched":
        h = logging.handlers.WatchedFileHandler(a.path)
    else:
        h = logging.FileHandler(a.path)
    h.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("app")
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False

    state = {"reopen": False, "stop": False}

    def on_usr1(signum, frame):
        state["reopen"] = True

    def on_term(signum, frame):
        state["stop"] = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    if a.pidfile:
        with open(a.pidfile + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(a.pidfile + ".tmp", a.pidfile)

    pad = "x" * 70
    seq = 0
    per_tick = max(1, a.rate // 100)
    start = time.monotonic()
    while not state["stop"] and time.monotonic() - start < a.seconds:
        for _ in range(per_tick):
            if state["reopen"]:
                # As gunicorn does on SIGUSR1: the handler's file is
                # closed and the path opened again.
                state["reopen"] = False
                h.acquire()
                try:
                    h.stream.close()
                    h.stream = h._open()
                finally:
                    h.release()
            seq += 1
            log.info("seq=%010d %s", seq, pad)
        delay = start + seq / a.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    # A rotator's signal may still come while the interpreter exits.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    h.close()
    print(seq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
