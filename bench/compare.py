"""Prints two commands' medians side by side and their ratio (bench/live.sh, bench/translate.sh).

    compare.py HEADER RECORDS FLOOR_NAME "WALL KIB ..." SUBJECT_NAME "WALL KIB ..." RATIO_NAME
"""
import statistics
import sys

header, records, floor_name, floor_runs, subject_name, subject_runs, ratio_name = sys.argv[1:8]
records = int(records)


def pairs(text):
    values = list(map(float, text.split()))
    return list(zip(values[0::2], values[1::2]))


floor, subject = pairs(floor_runs), pairs(subject_runs)
f = statistics.median(wall for wall, _ in floor)
s = statistics.median(wall for wall, _ in subject)
memory = max(kib for _, kib in subject) / 1024
print(f"{header}; median of {len(subject)} runs each")
print(f"{floor_name:<27}{f:.2f} s  ({records / f:,.0f} records/s)")
print(f"{subject_name:<27}{s:.2f} s  ({records / s:,.0f} records/s), peak memory {memory:.0f} MiB")
print(f"{'ratio ' + ratio_name:<27}{s / f:.2f}x")
