//! Calendar replies as real clients write them, and the owner's provider signing them.

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use ring::signature::KeyPair;

/// The owner's address (as in `test_config`).
pub const OWNER: &str = "owner@example.org";
/// The service mailbox (as in `test_config`).
pub const SERVICE: &str = "bookings@example.org";
/// The receiving server the tests trust.
pub const AUTHSERV: &str = "mx.service.test";

/// The owner's provider's DKIM key, and its DNS record for the verifier.
pub struct Provider {
    pkcs8: Vec<u8>,
    /// `(name, TXT value)`.
    pub record: (String, String),
}

impl Provider {
    /// A fresh Ed25519 key for `s1._domainkey.example.org`.
    pub fn new() -> Provider {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
        let p = base64::engine::general_purpose::STANDARD.encode(pair.public_key().as_ref());
        Provider {
            pkcs8: pkcs8.as_ref().to_vec(),
            record: (
                "s1._domainkey.example.org".to_owned(),
                format!("v=DKIM1; k=ed25519; p={p}"),
            ),
        }
    }

    /// `message` with the provider's signature on top.
    pub fn sign(&self, message: &str) -> String {
        let key = Ed25519Key::from_pkcs8_der(&self.pkcs8).expect("signing key");
        let sig = DkimSigner::from_key(key)
            .domain("example.org")
            .selector("s1")
            .headers([
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "Content-Type",
            ])
            .sign(message.as_bytes())
            .expect("signed");
        format!("{}{message}", sig.to_header())
    }
}

/// The receiving server's verdict on top of `message`.
pub fn vouched(message: &str, authserv: &str) -> String {
    format!(
        "Authentication-Results: {authserv}; dkim=pass (2048-bit key) header.d=example.org header.i=@example.org\r\n{message}"
    )
}

/// What a reply says.
pub struct Answer<'a> {
    pub uid: &'a str,
    pub sequence: Option<i64>,
    pub partstat: &'a str,
    pub attendee: &'a str,
    pub from: &'a str,
    pub message_id: &'a str,
}

impl Answer<'_> {
    fn headers(&self, subject: &str) -> String {
        format!(
            "From: Owner <{}>\r\nTo: {SERVICE}\r\nSubject: {subject}\r\nDate: Tue, 1 Jan 2030 10:00:00 +0000\r\nMessage-ID: <{}>\r\nMIME-Version: 1.0\r\n",
            self.from, self.message_id
        )
    }

    fn sequence_line(&self) -> String {
        self.sequence
            .map(|s| format!("SEQUENCE:{s}\r\n"))
            .unwrap_or_default()
    }
}

fn b64_lines(s: &str) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    enc.as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect()
}

/// Gmail: no SEQUENCE, the calendar inline (7bit) and attached as `invite.ics` (base64).
pub fn gmail(a: &Answer) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nDTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nDTSTAMP:20300101T100000Z\r\nORGANIZER;CN=Guidance:mailto:{SERVICE}\r\nUID:{uid}\r\nATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={ps};CN=Owner;X-NUM-GUESTS=0:mailto:{who}\r\nSUMMARY:Guidance session\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        uid = a.uid,
        ps = a.partstat,
        who = a.attendee,
    );
    format!(
        "{h}Content-Type: multipart/mixed; boundary=\"g1\"\r\n\r\n--g1\r\nContent-Type: multipart/alternative; boundary=\"g2\"\r\n\r\n--g2\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nOwner has accepted this invitation.\r\n--g2\r\nContent-Type: text/calendar; charset=\"UTF-8\"; method=REPLY\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{ics}--g2--\r\n--g1\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{att}--g1--\r\n",
        h = a.headers("Accepted: Guidance session"),
        att = b64_lines(&ics),
    )
}

/// Outlook: no ORGANIZER, a VTIMEZONE with a Windows name first, the part base64.
pub fn outlook(a: &Answer) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT={ps};CN=Owner:mailto:{who}\r\nSUMMARY;LANGUAGE=en-US:Accepted: Guidance session\r\nDTSTART;TZID=W. Europe Standard Time:20300105T110000\r\nDTEND;TZID=W. Europe Standard Time:20300105T120000\r\nUID:{uid}\r\nCLASS:PUBLIC\r\nPRIORITY:5\r\nDTSTAMP:20300101T100000Z\r\nTRANSP:OPAQUE\r\n{seq}LOCATION;LANGUAGE=en-US:\r\nX-MICROSOFT-CDO-APPT-SEQUENCE:0\r\nX-MICROSOFT-CDO-OWNERAPPTID:-1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        uid = a.uid,
        ps = a.partstat,
        who = a.attendee.to_uppercase(),
        seq = a.sequence_line(),
    );
    format!(
        "{h}Content-Type: multipart/alternative; boundary=\"_000_\"\r\n\r\n--_000_\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\n\r\n--_000_\r\nContent-Type: text/html; charset=\"us-ascii\"\r\n\r\n<html><body></body></html>\r\n--_000_\r\nContent-Type: text/calendar; charset=\"utf-8\"; method=REPLY\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--_000_--\r\n",
        h = a.headers("Accepted: Guidance session"),
        body = b64_lines(&ics),
    )
}

/// Proton (through Bridge): no `method=` on the part, a lower-case METHOD, attached, base64.
pub fn proton(a: &Answer) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Proton AG//WebCalendar 4.6.1//EN\r\nMETHOD:reply\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT={ps}:mailto:{who}\r\nUID:{uid}\r\nDTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n{seq}ORGANIZER;CN=Guidance:mailto:{SERVICE}\r\nDTSTAMP:20300101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        uid = a.uid,
        ps = a.partstat.to_lowercase(),
        who = a.attendee,
        seq = a.sequence_line(),
    );
    format!(
        "{h}Content-Type: multipart/mixed; boundary=\"p1\"\r\n\r\n--p1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOwner has accepted your invitation.\r\n--p1\r\nContent-Type: text/calendar; charset=utf-8; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--p1--\r\n",
        h = a.headers("Accepted invitation"),
        body = b64_lines(&ics),
    )
}

/// Apple Calendar: quoted-printable, its own X- properties, a folded long line.
pub fn apple(a: &Answer) -> String {
    format!(
        "{h}Content-Type: multipart/alternative; boundary=\"Apple-Mail=_1\"\r\n\r\n--Apple-Mail=_1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAccepted\r\n--Apple-Mail=_1\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.1//EN\r\nBEGIN:VEVENT\r\nATTENDEE;CN=3D\"Owner\";CUTYPE=3DINDIVIDUAL;EMAIL=3D\"{who}\";PARTSTAT=3D{ps}:mai=\r\nlto:{who}\r\nDTEND:20300105T110000Z\r\nDTSTAMP:20300101T100000Z\r\nDTSTART:20300105T100000Z\r\nORGANIZER;CN=3DGuidance:mailto:{SERVICE}\r\n{seq}SUMMARY:Guidance session\r\nUID:{uid}\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--Apple-Mail=_1--\r\n",
        h = a.headers("Invitation: Guidance session (Accepted)"),
        uid = a.uid,
        ps = a.partstat,
        who = a.attendee,
        seq = a.sequence_line(),
    )
}

/// Outlook's "propose new time": a COUNTER with the proposed start and end.
pub fn counter(a: &Answer, start_local: &str, end_local: &str) -> String {
    let ics = format!(
        "BEGIN:VCALENDAR\r\nMETHOD:COUNTER\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Owner:mailto:{who}\r\nDTSTART;TZID=W. Europe Standard Time:{start_local}\r\nDTEND;TZID=W. Europe Standard Time:{end_local}\r\nUID:{uid}\r\n{seq}DTSTAMP:20300101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        uid = a.uid,
        who = a.attendee,
        seq = a.sequence_line(),
    );
    format!(
        "{h}Content-Type: text/calendar; charset=\"utf-8\"; method=COUNTER\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}",
        h = a.headers("New Time Proposed: Guidance session"),
        body = b64_lines(&ics),
    )
}
