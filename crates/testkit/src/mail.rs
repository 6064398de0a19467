//! The emails the service writes, read the way a mail client would: the `.eml` files of its mail
//! directory (a new file per delivery, named `…-<kind>-…`, so a second delivery shows), parsed by
//! `mailparse`, never by the service's own code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mailparse::{MailHeaderMap, ParsedMail};

use crate::wait::poll;

/// How long [`MailDir::wait_for`] waits for the worker to write the emails it waits for.
const MAIL_WAIT: Duration = Duration::from_secs(15);

/// A mail directory the service delivers into.
#[derive(Debug, Clone)]
pub struct MailDir {
    path: PathBuf,
}

impl MailDir {
    /// The mail directory at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> MailDir {
        MailDir { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `.eml` files present now, in the order they were written (none if the directory is
    /// not there yet).
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|p| {
            (
                std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                p.clone(),
            )
        });
        v
    }

    /// The `.eml` files of one kind present now, in the order they were written.
    pub fn of_kind(&self, kind: &str) -> Vec<Vec<u8>> {
        self.paths()
            .into_iter()
            .filter(|p| is_kind(p, kind))
            .map(|p| std::fs::read(p).expect("read an email"))
            .collect()
    }

    /// The `.eml` files of one kind, once at least `count` are there (15 s at most).
    pub async fn wait_for(&self, kind: &str, count: usize) -> Vec<Vec<u8>> {
        poll(MAIL_WAIT, || async {
            let found = self.of_kind(kind);
            (found.len() >= count).then_some(found)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "fewer than {count} {kind} emails appeared in {}",
                self.path.display()
            )
        })
    }

    /// Message-ID → how many delivered files carry it, of one kind or of all.
    pub fn delivered(&self, kind: Option<&str>) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        for path in self.paths() {
            if kind.is_some_and(|k| !is_kind(&path, k)) {
                continue;
            }
            let raw = std::fs::read(&path).expect("read an email");
            *seen.entry(message_id(&raw)).or_insert(0) += 1;
        }
        seen
    }
}

/// Whether the file is an email of `kind`.
fn is_kind(path: &Path, kind: &str) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().contains(&format!("-{kind}-")))
}

/// A message's Message-ID, trimmed.
pub fn message_id(raw: &[u8]) -> String {
    header(raw, "Message-ID")
        .expect("a Message-ID")
        .trim()
        .to_owned()
}

/// The first header `name` of a message, decoded.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let (headers, _) = mailparse::parse_headers(raw).expect("parsable headers");
    headers.get_first_value(name)
}

/// The first part of type `mimetype` in a message's tree, the message itself included.
pub fn find_part<'a>(mail: &'a ParsedMail<'a>, mimetype: &str) -> Option<&'a ParsedMail<'a>> {
    if mail.ctype.mimetype == mimetype {
        return Some(mail);
    }
    mail.subparts.iter().find_map(|p| find_part(p, mimetype))
}

/// The decoded body of the first part of type `mimetype`, if the message has one.
pub fn part_text(raw: &[u8], mimetype: &str) -> Option<String> {
    let mail = mailparse::parse_mail(raw).expect("parsable email");
    find_part(&mail, mimetype).map(|p| p.get_body().expect("a decodable body"))
}

/// The decoded text/plain body of a message.
pub fn plain_text(raw: &[u8]) -> String {
    part_text(raw, "text/plain").expect("a text/plain part")
}

/// The decoded text/html body of a message.
pub fn html_text(raw: &[u8]) -> String {
    part_text(raw, "text/html").expect("a text/html part")
}

/// Every text/plain and text/html body of a message, in order, each after a line break: what a
/// reader may see of it.
pub fn all_text(raw: &[u8]) -> String {
    fn collect(mail: &ParsedMail<'_>, out: &mut String) {
        if mail.ctype.mimetype == "text/plain" || mail.ctype.mimetype == "text/html" {
            out.push('\n');
            out.push_str(&mail.get_body().unwrap_or_default());
        }
        for part in &mail.subparts {
            collect(part, out);
        }
    }
    let mut out = String::new();
    collect(
        &mailparse::parse_mail(raw).expect("parsable email"),
        &mut out,
    );
    out
}

/// The text/calendar part: its `method` parameter and its body.
pub fn calendar_part(raw: &[u8]) -> Option<(String, String)> {
    let mail = mailparse::parse_mail(raw).expect("parsable email");
    let part = find_part(&mail, "text/calendar")?;
    let method = part.ctype.params.get("method").cloned().unwrap_or_default();
    Some((method, part.get_body().expect("a decodable calendar")))
}

/// The links under `<base>/a/` in a message's text, in order.
pub fn action_links(raw: &[u8], base: &str) -> Vec<String> {
    let prefix = format!("{base}/a/");
    plain_text(raw)
        .split_whitespace()
        .filter(|w| w.starts_with(&prefix))
        .map(str::to_owned)
        .collect()
}

/// The token of a link: its last path segment.
pub fn token_of(link: &str) -> String {
    link.rsplit('/').next().expect("a path").to_owned()
}

/// The calendar's lines, unfolded (a line break followed by a space joins two lines).
pub fn ics_lines(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .map(str::to_owned)
        .collect()
}

/// The values of an ICS property, unfolded, e.g. `ics_values(ics, "UID")`.
pub fn ics_values(ics: &str, name: &str) -> Vec<String> {
    ics_lines(ics)
        .into_iter()
        .filter_map(|l| {
            let (head, value) = l.split_once(':')?;
            (head.split(';').next() == Some(name)).then(|| value.to_owned())
        })
        .collect()
}

/// The top-level header names every message has, and no other, lower-cased and sorted.
pub const DESIGNED_HEADERS: [&str; 7] = [
    "content-type",
    "date",
    "from",
    "message-id",
    "mime-version",
    "subject",
    "to",
];

/// A parsed message's top-level header names, lower-cased and sorted.
pub fn header_names(mail: &ParsedMail<'_>) -> Vec<String> {
    let mut names: Vec<String> = mail
        .headers
        .iter()
        .map(|h| h.get_key().to_ascii_lowercase())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"Message-ID: <m1@example.org>\r\n\
        Subject: Hello\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\
        \r\n\
        --b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        \r\n\
        Accept: http://h/a/TOKEN1\r\nDecline: http://h/a/TOKEN2 http://other/a/X\r\n\
        --b\r\n\
        Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\
        \r\n\
        BEGIN:VCALENDAR\r\nUID:abc\r\n def\r\nATTENDEE;CN=x:mailto:o@example.org\r\nEND:VCALENDAR\r\n\
        --b--\r\n";

    #[test]
    fn the_readers_find_parts_links_and_calendar_values() {
        assert_eq!(message_id(RAW), "<m1@example.org>");
        assert_eq!(header(RAW, "subject").as_deref(), Some("Hello"));
        assert_eq!(
            action_links(RAW, "http://h"),
            ["http://h/a/TOKEN1", "http://h/a/TOKEN2"]
        );
        assert_eq!(token_of("http://h/a/TOKEN1"), "TOKEN1");
        let (method, ics) = calendar_part(RAW).expect("a calendar");
        assert_eq!(method, "REQUEST");
        assert_eq!(ics_values(&ics, "UID"), ["abcdef"]);
        assert_eq!(ics_values(&ics, "ATTENDEE"), ["mailto:o@example.org"]);
        assert!(part_text(RAW, "text/html").is_none());
        assert!(all_text(RAW).contains("TOKEN2"));
    }

    #[test]
    fn a_mail_dir_counts_deliveries_by_message_id_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        let mail = MailDir::new(dir.path().join("mail"));
        assert!(mail.paths().is_empty(), "no directory yet, no mail");
        std::fs::create_dir(mail.path()).unwrap();
        for name in [
            "1-owner_new_request-a.eml",
            "2-owner_new_request-b.eml",
            "3-other-c.eml",
        ] {
            std::fs::write(mail.path().join(name), RAW).unwrap();
        }
        std::fs::write(mail.path().join("notes.txt"), "not an email").unwrap();
        assert_eq!(mail.paths().len(), 3);
        assert_eq!(mail.of_kind("owner_new_request").len(), 2);
        assert_eq!(
            mail.delivered(Some("owner_new_request")),
            BTreeMap::from([("<m1@example.org>".to_owned(), 2)])
        );
        assert_eq!(mail.delivered(None)["<m1@example.org>"], 3);
    }
}
