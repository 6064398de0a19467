#!/usr/bin/env python3
"""Checks every calendar object of received emails with two independent parsers, and the life of
each booking's event across them (DESIGN §4, NOTES-CALENDAR).

Usage: check_calendar_life.py MANIFEST.json

The manifest lists the emails in the order they arrived:

    {"organizer": "bookings@example.org", "owner": "owner@example.org",
     "messages": [{"path": "…/000001.eml",
                   "expect": {"SUMMARY": "…", "DESCRIPTION": "…", "attendees": 1}}, …]}

`expect` is optional; its values are the cleaned input the properties must parse back to.

Per email with a calendar part (found with Python's `email` package), parsed by both `icalendar`
and `vobject`:
- CRLF lines of at most 75 octets; exactly one VEVENT and no other component;
- the properties each METHOD needs: REQUEST — UID, DTSTAMP, SEQUENCE, DTSTART, DTEND, SUMMARY,
  ORGANIZER, at least one ATTENDEE, STATUS TENTATIVE or CONFIRMED; CANCEL — UID, DTSTAMP,
  SEQUENCE, DTSTART, ORGANIZER, STATUS CANCELLED;
- times in UTC; the ORGANIZER is the service (the From: address), never the owner, and never an
  ATTENDEE; every ATTENDEE has RSVP=TRUE;
- both parsers read the same UID, SEQUENCE, DTSTAMP, DTSTART, DTEND, SUMMARY, DESCRIPTION,
  ORGANIZER and ATTENDEE addresses, and these equal `expect` where given.

Per booking (UID), in arrival order: the ORGANIZER never changes; SEQUENCE and DTSTAMP never go
down; and for each recipient, every new calendar email has a higher SEQUENCE and a later DTSTAMP
than the last one that recipient got.

Prints one line per email and a summary; exits 1 on any problem.
"""

import datetime
import json
import sys
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

import icalendar
import vobject

MAX_LINE = 75
REQUIRED = {
    "REQUEST": ("UID", "DTSTAMP", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "STATUS"),
    "CANCEL": ("UID", "DTSTAMP", "SEQUENCE", "DTSTART", "ORGANIZER", "STATUS"),
}
STATUSES = {"REQUEST": ("TENTATIVE", "CONFIRMED"), "CANCEL": ("CANCELLED",)}


def mailto(value):
    s = str(value).strip()
    if s.lower().startswith("mailto:"):
        s = s[len("mailto:"):]
    return s.lower()


def utc(value, name, problems):
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        problems.append(f"{name} is not a UTC date-time: {value!r}")
        return value
    if value.utcoffset() != datetime.timedelta(0):
        problems.append(f"{name} is not in UTC: {value!r}")
    return value.astimezone(datetime.timezone.utc)


def read_icalendar(ics, problems):
    """The facts of the one VEVENT, as read by `icalendar`."""
    cal = icalendar.Calendar.from_ical(ics)
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    others = [c.name for c in cal.walk() if c.name not in ("VCALENDAR", "VEVENT")]
    if len(events) != 1 or others:
        problems.append(f"icalendar: {len(events)} VEVENTs, other components {others}")
        if not events:
            return None
    ev = events[0]
    method = str(cal.get("METHOD", "")).upper()
    for prop in REQUIRED.get(method, ()):
        if ev.get(prop) is None:
            problems.append(f"icalendar: {method} lacks {prop}")
    attendees = ev.get("ATTENDEE")
    attendees = [] if attendees is None else attendees if isinstance(attendees, list) else [attendees]
    for a in attendees:
        if str(a.params.get("RSVP", "")).upper() != "TRUE":
            problems.append(f"icalendar: ATTENDEE {a} without RSVP=TRUE")

    def dt(name):
        prop = ev.get(name)
        return utc(prop.dt, name, problems) if prop is not None else None

    return {
        "METHOD": method,
        "UID": str(ev.get("UID", "")),
        "SEQUENCE": int(ev.get("SEQUENCE", -1)),
        "DTSTAMP": dt("DTSTAMP"),
        "DTSTART": dt("DTSTART"),
        "DTEND": dt("DTEND"),
        "STATUS": str(ev.get("STATUS", "")).upper(),
        "SUMMARY": str(ev.get("SUMMARY", "")),
        "DESCRIPTION": str(ev.get("DESCRIPTION", "")),
        "ORGANIZER": mailto(ev.get("ORGANIZER", "")),
        "ATTENDEES": [mailto(a) for a in attendees],
    }


def read_vobject(ics, problems):
    """The same facts, as read by `vobject` (a separate parser with its own unfolding and
    unescaping)."""
    cal = vobject.readOne(ics.decode("utf-8"))
    events = list(getattr(cal, "vevent_list", []))
    others = [c.name for c in cal.getChildren() if isinstance(c, vobject.base.Component) and c.name != "VEVENT"]
    if len(events) != 1 or others:
        problems.append(f"vobject: {len(events)} VEVENTs, other components {others}")
        if not events:
            return None
    ev = events[0]
    method = cal.method.value.upper() if hasattr(cal, "method") else ""

    def value(name, default=""):
        line = getattr(ev, name.lower(), None)
        return default if line is None else line.value

    def dt(name):
        v = value(name, None)
        return utc(v, name, problems) if v is not None else None

    return {
        "METHOD": method,
        "UID": value("UID"),
        "SEQUENCE": int(value("SEQUENCE", "-1")),
        "DTSTAMP": dt("DTSTAMP"),
        "DTSTART": dt("DTSTART"),
        "DTEND": dt("DTEND"),
        "STATUS": value("STATUS").upper(),
        "SUMMARY": value("SUMMARY"),
        "DESCRIPTION": value("DESCRIPTION"),
        "ORGANIZER": mailto(value("ORGANIZER")),
        "ATTENDEES": [mailto(a.value) for a in getattr(ev, "attendee_list", [])],
    }


def calendar_of(raw):
    """The From address, the MIME method and the bytes of the text/calendar part (or None)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    sender = parseaddr(str(msg["From"]))[1].lower()
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return sender, part.get_param("method"), part.get_payload(decode=True)
    return sender, None, None


def check_message(entry, organizer, owner):
    problems = []
    with open(entry["path"], "rb") as f:
        raw = f.read()
    sender, mime_method, ics = calendar_of(raw)
    if ics is None:
        return None, problems
    if not ics.endswith(b"\r\n"):
        problems.append("calendar does not end with CRLF")
    for n, line in enumerate(ics.split(b"\r\n"), 1):
        if b"\r" in line or b"\n" in line:
            problems.append(f"line {n} has a bare CR or LF")
        if len(line) > MAX_LINE:
            problems.append(f"line {n} has {len(line)} octets")
    facts = []
    for reader in (read_icalendar, read_vobject):
        try:
            facts.append(reader(ics, problems))
        except Exception as e:  # noqa: BLE001 - a parse failure is the finding
            problems.append(f"{reader.__name__}: {type(e).__name__}: {e}")
            facts.append(None)
    ical, vobj = facts
    if ical is None or vobj is None:
        return None, problems
    for key in ical:
        if ical[key] != vobj[key]:
            problems.append(f"parsers disagree on {key}: {ical[key]!r} vs {vobj[key]!r}")
    f = ical
    if f["METHOD"] != str(mime_method or "").upper():
        problems.append(f"METHOD {f['METHOD']} but MIME method={mime_method}")
    if f["STATUS"] not in STATUSES.get(f["METHOD"], ()):
        problems.append(f"STATUS {f['STATUS']} with METHOD {f['METHOD']}")
    if f["METHOD"] == "REQUEST" and not f["ATTENDEES"]:
        problems.append("a REQUEST without ATTENDEE")
    if f["ORGANIZER"] != organizer.lower() or f["ORGANIZER"] != sender:
        problems.append(f"ORGANIZER {f['ORGANIZER']} is not the service {organizer} / From {sender}")
    if f["ORGANIZER"] == owner.lower():
        problems.append("the owner is the ORGANIZER")
    if f["ORGANIZER"] in f["ATTENDEES"]:
        problems.append("the ORGANIZER is also an ATTENDEE")
    if len(set(f["ATTENDEES"])) != len(f["ATTENDEES"]):
        problems.append("an ATTENDEE appears twice")
    if f["DTEND"] is not None and f["DTSTART"] is not None and f["DTEND"] <= f["DTSTART"]:
        problems.append("DTEND is not after DTSTART")
    for key, want in entry.get("expect", {}).items():
        got = len(f["ATTENDEES"]) if key == "attendees" else f.get(key)
        if got != want:
            problems.append(f"{key} parses back as {got!r}, expected {want!r}")
    return f, problems


def main(argv):
    if len(argv) != 2:
        print("usage: check_calendar_life.py MANIFEST.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    organizer, owner = manifest["organizer"], manifest["owner"]
    all_ok = True
    lives = {}  # UID -> {"organizer", "seq", "stamp", "per_recipient": {addr: (seq, stamp)}}
    calendars = 0
    for entry in manifest["messages"]:
        facts, problems = check_message(entry, organizer, owner)
        recipient = entry.get("recipient", "")
        if facts is not None:
            calendars += 1
            life = lives.setdefault(facts["UID"], {"organizer": facts["ORGANIZER"], "seq": -1, "stamp": None, "per": {}})
            if facts["ORGANIZER"] != life["organizer"]:
                problems.append("the ORGANIZER changed during the booking's life")
            if facts["SEQUENCE"] < life["seq"]:
                problems.append(f"SEQUENCE went down: {life['seq']} -> {facts['SEQUENCE']}")
            if life["stamp"] is not None and facts["DTSTAMP"] < life["stamp"]:
                problems.append(f"DTSTAMP went back: {life['stamp']} -> {facts['DTSTAMP']}")
            last = life["per"].get(recipient)
            if last is not None:
                if facts["SEQUENCE"] <= last[0]:
                    problems.append(f"{recipient}: SEQUENCE did not go up ({last[0]} -> {facts['SEQUENCE']})")
                if facts["DTSTAMP"] <= last[1]:
                    problems.append(f"{recipient}: DTSTAMP did not move on ({last[1]} -> {facts['DTSTAMP']})")
            life["seq"] = max(life["seq"], facts["SEQUENCE"])
            life["stamp"] = facts["DTSTAMP"] if life["stamp"] is None else max(life["stamp"], facts["DTSTAMP"])
            life["per"][recipient] = (facts["SEQUENCE"], facts["DTSTAMP"])
        what = "no calendar" if facts is None and not problems else (
            f"{facts['METHOD']} {facts['STATUS']} SEQUENCE:{facts['SEQUENCE']} to {recipient}" if facts else "")
        if problems:
            all_ok = False
            print(f"FAIL {entry['path']}: " + "; ".join(dict.fromkeys(problems)))
        else:
            print(f"ok   {entry['path']}: {what}")
    print(f"{calendars} calendars, {len(lives)} UIDs, {'ok' if all_ok else 'FAILED'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
