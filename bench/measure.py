#!/usr/bin/env python3
"""Runs a command several times; prints median and best wall time and peak RSS.

    python3 bench/measure.py --runs 5 -- target/release/gantry validate /tmp/stack
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, code


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    results = [run_once(cmd) for _ in range(a.runs)]
    codes = {c for _, _, c in results}
    if codes != {0}:
        print(f"command failed with exit codes {codes}: {' '.join(cmd)}", file=sys.stderr)
        sys.exit(1)
    times = [t for t, _, _ in results]
    rss = max(r for _, r, _ in results)
    print(f"median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms, "
          f"peak RSS {rss:.0f} MiB ({a.runs} runs)")


if __name__ == "__main__":
    main()
