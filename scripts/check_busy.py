#!/usr/bin/env python3
"""An independent expansion of the owner's calendars, to check which slots Guidance hides.

Usage: check_busy.py OWNER_ZONE SLOTS.json FEED.ics...

SLOTS.json is a list of {"id", "starts_at", "ends_at"} (RFC 3339). Every feed is expanded with
`icalendar` and `recurring-ical-events` (RRULE, RDATE, EXDATE, RECURRENCE-ID, VTIMEZONE and
Windows zone names); events that are TRANSPARENT or CANCELLED, and Guidance's own (UID ending in
@guidance), do not block; dates span the owner's local day and floating times are the owner's.
Prints the sorted ids of the slots that overlap a busy time, as JSON.
"""
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events


def moment(value, zone):
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(0, 0), tzinfo=zone)


def main():
    zone = ZoneInfo(sys.argv[1])
    with open(sys.argv[2]) as f:
        slots = [
            (s["id"], dt.datetime.fromisoformat(s["starts_at"].replace("Z", "+00:00")),
             dt.datetime.fromisoformat(s["ends_at"].replace("Z", "+00:00")))
            for s in json.load(f)
        ]
    lo = min(s for _, s, _ in slots) - dt.timedelta(days=2)
    hi = max(e for _, _, e in slots) + dt.timedelta(days=2)
    busy = []
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            cal = icalendar.Calendar.from_ical(f.read())
        for ev in recurring_ical_events.of(cal).between(lo, hi):
            if str(ev.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(ev.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if str(ev.get("UID", "")).endswith("@guidance"):
                continue
            start = ev["DTSTART"].dt
            if "DTEND" in ev:
                end = ev["DTEND"].dt
            elif "DURATION" in ev:
                end = start + ev["DURATION"].dt
            elif isinstance(start, dt.datetime):
                end = start
            else:
                end = start + dt.timedelta(days=1)
            busy.append((moment(start, zone), moment(end, zone)))
    hidden = sorted(i for i, s, e in slots if any(b < e and s < f for b, f in busy))
    print(json.dumps(hidden))


if __name__ == "__main__":
    main()
