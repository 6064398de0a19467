//! The CalDAV side: a `calendar-query` REPORT bounded by a time range (RFC 4791 §7.8; free-busy
//! queries are implemented unevenly across servers), and the calendar data of its answer.

use jiff::Timestamp;

/// The REPORT body asking for every event overlapping `[from, to)`.
pub fn calendar_query(from: Timestamp, to: Timestamp) -> String {
    let stamp = |t: Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\n\
         <d:prop><c:calendar-data/></d:prop>\n\
         <c:filter><c:comp-filter name=\"VCALENDAR\"><c:comp-filter name=\"VEVENT\">\n\
         <c:time-range start=\"{}\" end=\"{}\"/>\n\
         </c:comp-filter></c:comp-filter></c:filter>\n\
         </c:calendar-query>\n",
        stamp(from),
        stamp(to)
    )
}

/// The text of every `calendar-data` element of a multistatus answer, whatever its namespace
/// prefix, with XML entities and CDATA sections undone, joined into one document list.
pub fn calendar_data(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        let name = tag.split_whitespace().next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        if local != "calendar-data" || tag.starts_with('/') || tag.ends_with('/') {
            continue;
        }
        let end = format!("</{name}>");
        let Some(stop) = rest.find(&end) else { break };
        out.push_str(&unescape(&rest[..stop]));
        out.push_str("\r\n");
        rest = &rest[stop + end.len()..];
    }
    out
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let stop = cdata.find("]]>").unwrap_or(cdata.len());
            out.push_str(&cdata[..stop]);
            rest = cdata.get(stop + 3..).unwrap_or("");
            continue;
        }
        let Some(amp) = rest.find(['&', '<']) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        if rest.starts_with('<') {
            if !rest.starts_with("<![CDATA[") {
                out.push('<');
                rest = &rest[1..];
            }
            continue;
        }
        let Some(semi) = rest.find(';').filter(|s| *s < 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_data_is_read_with_any_prefix_escaped_or_in_cdata() {
        let xml = "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
            <D:response><D:propstat><D:prop><C:calendar-data>BEGIN:VCALENDAR&#13;\nSUMMARY:a &amp; b&#13;\nEND:VCALENDAR</C:calendar-data></D:prop></D:propstat></D:response>\
            <D:response><D:propstat><D:prop><cal:calendar-data xmlns:cal=\"urn:ietf:params:xml:ns:caldav\"><![CDATA[BEGIN:VCALENDAR\r\nEND:VCALENDAR]]></cal:calendar-data></D:prop></D:propstat></D:response>\
            </D:multistatus>";
        let data = calendar_data(xml);
        assert!(data.contains("BEGIN:VCALENDAR\r\nSUMMARY:a & b\r\nEND:VCALENDAR"));
        assert_eq!(data.matches("BEGIN:VCALENDAR").count(), 2);
        assert!(
            calendar_query(
                "2030-01-01T00:00:00Z".parse().unwrap(),
                "2030-02-01T00:00:00Z".parse().unwrap()
            )
            .contains("start=\"20300101T000000Z\" end=\"20300201T000000Z\"")
        );
    }
}
