#!/usr/bin/env python3
"""Independent checker for Guidance's .eml files (DESIGN §4, NOTES-CALENDAR).

Usage: check_eml.py FILE.eml [FILE.eml ...]

For each file it checks, with Python's own `email` package and the PyPI `icalendar` package
(nothing shared with the Rust code that wrote the message):

- the top-level headers From, To, Subject, Date, Message-ID and MIME-Version, each exactly once;
- the MIME tree, one of
    multipart/mixed [ multipart/alternative [ text/plain, text/html, text/calendar ],
                      application/ics attachment "invite.ics" (base64) ]
    multipart/alternative [ text/plain, text/html ]
- the calendar parts: charset utf-8, a `method=` parameter, 7bit/8bit (never quoted-printable),
  the attachment holding the very same bytes as the inline part;
- the calendar object: CRLF lines of at most 75 octets, METHOD equal to the MIME method,
  exactly one VEVENT, UID/DTSTAMP/SEQUENCE/DTSTART/ORGANIZER present, the ORGANIZER not also an
  ATTENDEE, every ATTENDEE with RSVP=TRUE.

Prints one line per file ("ok" or "FAIL" with the reasons) and exits 1 if any file failed.
"""

import sys
from email import policy
from email.parser import BytesParser

import icalendar

REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version")
MAX_ICS_LINE = 75


class Failure(Exception):
    """One reason a message is wrong."""


def require(condition, reason):
    if not condition:
        raise Failure(reason)


def content_types(parts):
    return [p.get_content_type() for p in parts]


def check_headers(msg, problems):
    for name in REQUIRED_HEADERS:
        count = len(msg.get_all(name, []))
        if count != 1:
            problems.append(f"{count} {name} headers")


def check_text_part(part, mimetype, problems):
    if part.get_content_type() != mimetype:
        problems.append(f"expected {mimetype}, got {part.get_content_type()}")
        return
    if (part.get_content_charset() or "").lower() != "utf-8":
        problems.append(f"{mimetype} charset is {part.get_content_charset()!r}")
    try:
        part.get_content()
    except Exception as e:  # noqa: BLE001 - any decoding error is a finding
        problems.append(f"{mimetype} does not decode: {e}")


def mailto(value):
    """The address of a CAL-ADDRESS value, lower-cased, without `mailto:`."""
    s = str(value).strip()
    if s.lower().startswith("mailto:"):
        s = s[len("mailto:"):]
    return s.lower()


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def check_ics_bytes(ics, mime_method, problems):
    """Byte-level and semantic checks of one calendar object."""
    require(ics.endswith(b"\r\n"), "calendar does not end with CRLF")
    for n, line in enumerate(ics.split(b"\r\n"), 1):
        if b"\r" in line or b"\n" in line:
            problems.append(f"calendar line {n} has a bare CR or LF")
        if len(line) > MAX_ICS_LINE:
            problems.append(f"calendar line {n} has {len(line)} octets")
    try:
        cal = icalendar.Calendar.from_ical(ics)
    except Exception as e:  # noqa: BLE001 - a parse error is the finding
        raise Failure(f"icalendar cannot parse the calendar: {e}") from e
    method = str(cal.get("METHOD", "")).upper()
    if method != mime_method.upper():
        problems.append(f"METHOD {method!r} differs from the MIME method={mime_method!r}")
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    others = [c.name for c in cal.walk() if c.name not in ("VCALENDAR", "VEVENT")]
    if len(events) != 1:
        problems.append(f"{len(events)} VEVENTs")
    if others:
        problems.append(f"unexpected components {others}")
    for event in events:
        for prop in ("UID", "DTSTAMP", "SEQUENCE", "DTSTART", "ORGANIZER"):
            if event.get(prop) is None:
                problems.append(f"VEVENT lacks {prop}")
        organizer = mailto(event.get("ORGANIZER", ""))
        attendees = as_list(event.get("ATTENDEE"))
        if not attendees:
            problems.append("no ATTENDEE")
        seen = set()
        for attendee in attendees:
            address = mailto(attendee)
            if address == organizer:
                problems.append(f"ORGANIZER {organizer} is also an ATTENDEE")
            if address in seen:
                problems.append(f"ATTENDEE {address} appears twice")
            seen.add(address)
            rsvp = str(getattr(attendee, "params", {}).get("RSVP", "")).upper()
            if rsvp != "TRUE":
                problems.append(f"ATTENDEE {address} has RSVP={rsvp or 'missing'}")
    return method


def check_calendar_message(msg, problems):
    """multipart/mixed [ alternative [ plain, html, calendar ], invite.ics ]."""
    parts = msg.get_payload()
    require(
        content_types(parts) == ["multipart/alternative", "application/ics"],
        f"multipart/mixed holds {content_types(parts)}",
    )
    alternative, attachment = parts
    alts = alternative.get_payload()
    require(
        content_types(alts) == ["text/plain", "text/html", "text/calendar"],
        f"multipart/alternative holds {content_types(alts)}",
    )
    check_text_part(alts[0], "text/plain", problems)
    check_text_part(alts[1], "text/html", problems)
    calendar = alts[2]
    if (calendar.get_content_charset() or "").lower() != "utf-8":
        problems.append(f"text/calendar charset is {calendar.get_content_charset()!r}")
    method = calendar.get_param("method")
    require(method, "text/calendar has no method= parameter")
    cte = calendar.get("Content-Transfer-Encoding", "7bit").strip().lower()
    if cte not in ("7bit", "8bit"):
        problems.append(f"text/calendar is {cte}")
    if attachment.get_content_disposition() != "attachment":
        problems.append(f"invite.ics disposition is {attachment.get_content_disposition()!r}")
    if attachment.get_filename() != "invite.ics":
        problems.append(f"attachment file name is {attachment.get_filename()!r}")
    if attachment.get_param("name") != "invite.ics":
        problems.append(f"attachment name= is {attachment.get_param('name')!r}")
    att_cte = attachment.get("Content-Transfer-Encoding", "").strip().lower()
    if att_cte != "base64":
        problems.append(f"invite.ics is {att_cte or 'not encoded'}, not base64")
    inline = calendar.get_payload(decode=True)
    attached = attachment.get_payload(decode=True)
    if inline != attached:
        problems.append("invite.ics differs from the inline calendar")
    ics_method = check_ics_bytes(inline, method, problems)
    return f"{ics_method} calendar"


def check_plain_message(msg, problems):
    """multipart/alternative [ plain, html ] and no calendar anywhere."""
    alts = msg.get_payload()
    require(
        content_types(alts) == ["text/plain", "text/html"],
        f"multipart/alternative holds {content_types(alts)}",
    )
    check_text_part(alts[0], "text/plain", problems)
    check_text_part(alts[1], "text/html", problems)
    return "no calendar"


def check_file(path):
    """Returns (ok, one-line report)."""
    problems = []
    try:
        with open(path, "rb") as f:
            raw = f.read()
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        if msg.defects:
            problems.append(f"MIME defects: {[type(d).__name__ for d in msg.defects]}")
        check_headers(msg, problems)
        for part in msg.walk():
            if part.defects:
                problems.append(
                    f"{part.get_content_type()} defects: {[type(d).__name__ for d in part.defects]}"
                )
            if part.get_content_type() in ("text/calendar", "application/ics"):
                cte = part.get("Content-Transfer-Encoding", "").strip().lower()
                if cte == "quoted-printable":
                    problems.append(f"{part.get_content_type()} is quoted-printable")
        top = msg.get_content_type()
        if top == "multipart/mixed":
            summary = check_calendar_message(msg, problems)
        elif top == "multipart/alternative":
            summary = check_plain_message(msg, problems)
        else:
            raise Failure(f"top-level type is {top}")
    except Failure as e:
        problems.append(str(e))
        summary = ""
    except Exception as e:  # noqa: BLE001 - report, do not crash on one bad file
        problems.append(f"{type(e).__name__}: {e}")
        summary = ""
    if problems:
        problems = list(dict.fromkeys(problems))  # one mention per distinct finding
        return False, f"FAIL {path}: " + "; ".join(problems)
    return True, f"ok   {path}: {summary}"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    all_ok = True
    for path in argv[1:]:
        ok, line = check_file(path)
        print(line)
        all_ok = all_ok and ok
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
