//! The text parts' transfer encoding, quoted-printable (RFC 2045 §6.7), written in one pass.
//!
//! lettre's own path to it normalised the line ends, scanned the text to choose an encoding
//! already chosen, then encoded it with a general encoder: together a quarter of the time an
//! email took to render. The rules are few, and `reading.rs` and the tests' independent parsers
//! read the result.

const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// The longest encoded line, soft line break's `=` included.
const MAX_LINE: usize = 76;

/// Whether an octet may stand for itself: printable ASCII but `=`, and space and tab (which
/// may not end a line).
const fn is_literal(b: u8) -> bool {
    LITERAL[b as usize]
}

/// [`is_literal`] for every octet, looked up rather than compared: most of an email's octets
/// pass through it.
const LITERAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, 33..=60 | 62..=126 | b' ' | b'\t');
        b += 1;
    }
    table
};

/// `text` quoted-printable with CRLF line ends: each line end of the text (LF or CRLF) a line
/// end of the encoding; printable ASCII as it is, but `=`; a space or tab as it is unless it
/// ends a line; every other octet (controls, a lone CR, UTF-8's non-ASCII) as `=XX`; and a soft
/// line break (`=` CRLF) wherever a line would grow beyond 76 octets, never inside an `=XX`.
pub fn encode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16 + 16);
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let ends_with_lf = lines.peek().is_some();
        let line = if ends_with_lf {
            line.strip_suffix(b"\r").unwrap_or(line)
        } else {
            line
        };
        encode_line(line, &mut out);
        if ends_with_lf {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// One line without its line end, with soft breaks. Runs of literal octets are copied whole,
/// which is what most of an email is.
fn encode_line(line: &[u8], out: &mut Vec<u8>) {
    let mut column = 0;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        let last = i + 1 == line.len();
        if is_literal(b) && !(last && matches!(b, b' ' | b'\t')) {
            let mut end = line[i..]
                .iter()
                .position(|&c| !is_literal(c))
                .map_or(line.len(), |n| i + n);
            // A blank that ends the line is escaped, below.
            if end == line.len() && matches!(line[end - 1], b' ' | b'\t') {
                end -= 1;
            }
            while i < end {
                // The piece that ends the line may take the column a soft break would need.
                if end == line.len() && end - i <= MAX_LINE - column {
                    out.extend_from_slice(&line[i..end]);
                    column += end - i;
                    i = end;
                    break;
                }
                let room = (MAX_LINE - 1).saturating_sub(column);
                if room == 0 {
                    out.extend_from_slice(b"=\r\n");
                    column = 0;
                    continue;
                }
                let take = room.min(end - i);
                out.extend_from_slice(&line[i..i + take]);
                column += take;
                i += take;
            }
        } else {
            let room = if last { MAX_LINE } else { MAX_LINE - 1 };
            if column + 3 > room {
                out.extend_from_slice(b"=\r\n");
                column = 0;
            }
            out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            column += 3;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::encode;

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("quoted-printable is ASCII")
    }

    #[test]
    fn printable_text_stays_as_it_is_with_crlf_line_ends() {
        assert_eq!(
            text(&encode("Hello, world!\nSecond line\r\n")),
            "Hello, world!\r\nSecond line\r\n"
        );
        assert_eq!(text(&encode("")), "");
    }

    #[test]
    fn equals_controls_non_ascii_and_trailing_blanks_are_escaped() {
        assert_eq!(text(&encode("a=b")), "a=3Db");
        assert_eq!(text(&encode("café")), "caf=C3=A9");
        assert_eq!(text(&encode("nul\0 cr\r.")), "nul=00 cr=0D.");
        assert_eq!(
            text(&encode("end \nand\t\r\nlast ")),
            "end=20\r\nand=09\r\nlast=20"
        );
    }

    #[test]
    fn long_lines_get_soft_breaks_within_76_octets_never_inside_an_escape() {
        let long = format!("{}é{}", "x".repeat(74), "y".repeat(200));
        let encoded = encode(&long);
        let lines: Vec<&str> = text(&encoded).split("\r\n").collect();
        assert!(lines.len() > 3, "{lines:?}");
        for line in &lines {
            assert!(line.len() <= 76, "{} octets: {line}", line.len());
        }
        assert_eq!(lines[0], format!("{}=", "x".repeat(74)));
        assert!(lines[1].starts_with("=C3=A9y"), "{}", lines[1]);
        // A line of exactly 76 octets needs no soft break.
        assert_eq!(text(&encode(&"z".repeat(76))), "z".repeat(76));
        assert_eq!(
            text(&encode(&"z".repeat(77))),
            format!("{}=\r\nzz", "z".repeat(75))
        );
    }

    /// mailparse, an independent reader, decodes each text back, line ends as CRLF.
    #[test]
    fn an_independent_reader_decodes_the_text_back() {
        let texts = [
            "Grüße = greetings \t\n<a href=\"x\">Link</a>\r\n".repeat(30),
            format!("{} \n\u{1F600}{}\n", "w".repeat(2000), "=".repeat(100)),
            "trailing tab\t".to_owned(),
        ];
        for original in texts {
            let message = [
                b"Content-Type: text/plain; charset=utf-8\r\n".as_slice(),
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                &encode(&original),
            ]
            .concat();
            let parsed = mailparse::parse_mail(&message).expect("parses");
            assert_eq!(
                parsed.get_body().expect("decodes"),
                original.replace("\r\n", "\n").replace('\n', "\r\n")
            );
        }
    }
}
