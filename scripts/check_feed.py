#!/usr/bin/env python3
"""Checks the owner's feed with two independent parsers and prints what both read.

Usage: check_feed.py FEED.ics

Both `icalendar` and `vobject` must parse the feed; every line must end in CRLF and be at most 75
octets; there must be no METHOD. Prints, as JSON, per UID the SEQUENCE and STATUS each parser
read (they must agree, else it exits 1), plus X-WR-CALNAME and REFRESH-INTERVAL.
"""
import json
import sys

import icalendar
import vobject


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    problems = []
    for line in raw.split(b"\r\n")[:-1]:
        if len(line) > 75 or b"\n" in line or b"\r" in line:
            problems.append(f"bad line: {line[:40]!r}")
    cal = icalendar.Calendar.from_ical(raw)
    if "METHOD" in cal:
        problems.append("a feed has no METHOD")
    by_ical = {
        str(ev["UID"]): {"sequence": int(ev.get("SEQUENCE", 0)), "status": str(ev.get("STATUS"))}
        for ev in cal.walk("VEVENT")
    }
    vcal = vobject.readOne(raw.decode("utf-8"))
    by_vobject = {
        ev.uid.value: {"sequence": int(ev.sequence.value), "status": ev.status.value}
        for ev in getattr(vcal, "vevent_list", [])
    }
    if by_ical != by_vobject:
        problems.append(f"parsers disagree: {by_ical} != {by_vobject}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(json.dumps({
        "name": str(cal.get("X-WR-CALNAME")),
        "refresh": cal.get("REFRESH-INTERVAL").to_ical().decode() if cal.get("REFRESH-INTERVAL") else None,
        "events": by_ical,
    }))


if __name__ == "__main__":
    main()
