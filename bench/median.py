"""Runs a command several times and prints its median and fastest wall time.

Usage: python3 bench/median.py RUNS COMMAND [ARGS...]
The command's output is discarded; a failing run stops the benchmark.
"""
import statistics
import subprocess
import sys
import time

runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
print(f"median {statistics.median(times):8.2f} ms   min {min(times):8.2f} ms   ({runs} runs)")
