#!/usr/bin/env python3
"""Checks the meeting room of an invitation, independently of Guidance's own code.

Usage: check_meeting.py EML SECRET AUDIENCE

The calendar part of the email EML is parsed by both `icalendar` and `vobject`; its LOCATION,
URL and CONFERENCE must be one and the same join address. When that address carries a JWT
(`jwt=`), PyJWT must verify it with SECRET and AUDIENCE (HS256) and refuse it with any other
secret. Prints the address and the token's claims as JSON; exits non-zero on any failure.
"""

import json
import sys
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

import icalendar
import jwt
import vobject


def main() -> int:
    path, secret, audience = sys.argv[1:4]
    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    ics = part.get_content()

    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    location = str(event["LOCATION"])
    url = str(event["URL"])
    conference = str(event["CONFERENCE"])
    if not (location == url == conference):
        raise SystemExit(f"icalendar: LOCATION {location!r}, URL {url!r}, CONFERENCE {conference!r}")

    vevent = vobject.readOne(ics).vevent
    if not (vevent.location.value == vevent.url.value == url):
        raise SystemExit(f"vobject: LOCATION {vevent.location.value!r}, URL {vevent.url.value!r}")

    claims = {}
    token = parse_qs(urlsplit(url).query).get("jwt", [None])[0]
    if token is not None:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=audience,
                            options={"verify_exp": False})
        try:
            jwt.decode(token, secret + "x", algorithms=["HS256"], audience=audience,
                       options={"verify_exp": False})
        except jwt.InvalidSignatureError:
            pass
        else:
            raise SystemExit("a wrong secret verified the token")
    print(json.dumps({"url": url, "claims": claims}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
