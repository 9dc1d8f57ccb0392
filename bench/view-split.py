#!/usr/bin/env python3
"""Splits input-to-photon into its two halves, from a run of
VIEW_TRACE=FILE bench/run-remote.sh view: FILE (the Java viewer: CLOCK_MONOTONIC ns of each press's
send and sight), FILE.browser (the portal in Chromium: wall-clock ms) and FILE.x (bench/xprobe.py:
when the desktop's centre square changed colour).

  sent -> drawn:  the input's way to the agent, its injection, and the desktop app's answer on
                  the X display;
  drawn -> seen:  the agent's capture and encoding, the network, the viewer's decoding and display.
"""
import bisect
import sys


def split(presses, changes):
    times = [t for t, _ in changes]
    rows = []
    for sent, seen in presses:
        i = bisect.bisect_right(times, sent)
        if i < len(times) and times[i] < seen:
            rows.append(((seen - sent) / 1e6, (times[i] - sent) / 1e6, (seen - times[i]) / 1e6))
    return rows


def report(name, rows):
    if not rows:
        print(f"{name}: no press matched a change on the desktop")
        return
    for col, label in enumerate(("total", "sent -> drawn", "drawn -> seen")):
        values = sorted(r[col] for r in rows)
        p50 = values[len(values) // 2]
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{name:8} {label:14} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(values)} presses)")


base = sys.argv[1]
probe = [line.split() for line in open(base + ".x")]
mono = [(int(p[0]), int(p[1])) for p in probe]
wall = [(int(p[2]), int(p[1])) for p in probe if len(p) > 2]
report("java", split([tuple(map(int, line.split())) for line in open(base)], mono))
try:
    browser = [tuple(int(float(v) * 1e6) for v in line.split()) for line in open(base + ".browser")]
    report("browser", split(browser, wall))
except FileNotFoundError:
    pass
