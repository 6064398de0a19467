#!/usr/bin/env python3
"""Parses a Prometheus text exposition with the prometheus_client package's parser (an
independent reader of the format) and prints every sample as JSON.

Usage: check_metrics.py FILE

Prints {"families": {name: type}, "samples": [[name, {label: value}, value], ...]}. Exits
non-zero when the text does not parse, or when a histogram's buckets are not cumulative or do
not end in le="+Inf" equal to its _count.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    families = {}
    samples = []
    problems = []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            samples.append([s.name, s.labels, s.value])
        if family.type == "histogram":
            series = {}
            for s in family.samples:
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if s.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(s.labels["le"]), s.value))
                elif s.name.endswith("_count"):
                    series[key]["count"] = s.value
            for key, h in series.items():
                values = [v for _, v in h["buckets"]]
                if values != sorted(values):
                    problems.append(f"{family.name}{key}: buckets not cumulative")
                if not h["buckets"] or h["buckets"][-1][0] != float("inf"):
                    problems.append(f"{family.name}{key}: no +Inf bucket last")
                elif h["buckets"][-1][1] != h["count"]:
                    problems.append(f"{family.name}{key}: +Inf bucket is not _count")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(json.dumps({"families": families, "samples": samples}))


if __name__ == "__main__":
    main()
