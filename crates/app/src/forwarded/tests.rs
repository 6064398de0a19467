use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn proxies(s: &str) -> TrustedProxies {
    TrustedProxies::parse(s).unwrap()
}

/// The client of a request from `peer` with these headers (`xff`, `xfp`, `fwd` each a list of
/// header lines).
fn client(trusted: &str, peer: &str, xff: &[&str], xfp: &[&str], fwd: &[&str]) -> Client {
    proxies(trusted).client(
        ip(peer),
        &Forwarding {
            forwarded: fwd,
            x_forwarded_for: xff,
            x_forwarded_proto: xfp,
        },
    )
}

fn xff(trusted: &str, peer: &str, header: &str) -> IpAddr {
    client(trusted, peer, &[header], &[], &[]).ip
}

fn fwd(trusted: &str, peer: &str, header: &str) -> Client {
    client(trusted, peer, &[], &[], &[header])
}

#[test]
fn the_list_parses_addresses_and_ranges_of_both_families() {
    let p = proxies(" 127.0.0.1, ::1 ,10.0.0.0/8,fd00::/8, [2001:db8::7],,");
    for yes in ["127.0.0.1", "::1", "10.200.3.4", "fd12::1", "2001:db8::7"] {
        assert!(p.trusts(ip(yes)), "{yes}");
    }
    for no in ["127.0.0.2", "11.0.0.1", "fe80::1", "2001:db8::8", "::2"] {
        assert!(!p.trusts(ip(no)), "{no}");
    }
    // An IPv4 peer seen on a dual-stack socket is the IPv4 address.
    assert!(p.trusts(ip("::ffff:10.1.2.3")));
    assert!(proxies("::ffff:10.0.0.0/104").trusts(ip("10.1.2.3")));
    assert!(proxies("").is_empty());
    assert!(proxies(" , ").is_empty());
}

#[test]
fn bad_entries_are_refused_by_name() {
    for bad in [
        "localhost",
        "10.0.0.0/33",
        "1.2.3",
        "127.0.0.1:8080",
        "::1/129",
        "10.0.0.0/8/8",
        "*",
    ] {
        let e = TrustedProxies::parse(&format!("127.0.0.1,{bad}")).unwrap_err();
        assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
    }
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_says() {
    let c = client(
        "10.0.0.1",
        "203.0.113.9",
        &["198.51.100.1"],
        &["https"],
        &["for=198.51.100.2;proto=https"],
    );
    assert_eq!(
        c,
        Client {
            ip: ip("203.0.113.9"),
            https: false
        }
    );
    // No proxies configured: the same.
    assert_eq!(xff("", "127.0.0.1", "198.51.100.1"), ip("127.0.0.1"));
}

#[test]
fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
    let t = "127.0.0.1,10.0.0.0/8";
    assert_eq!(xff(t, "127.0.0.1", "198.51.100.7"), ip("198.51.100.7"));
    // What the client wrote itself stays on the left and is passed over.
    assert_eq!(
        xff(t, "127.0.0.1", "1.1.1.1, 198.51.100.7"),
        ip("198.51.100.7")
    );
    // Trusted hops on the right are skipped.
    assert_eq!(
        xff(t, "127.0.0.1", "1.1.1.1, 198.51.100.7, 10.0.0.5, 10.0.0.6"),
        ip("198.51.100.7")
    );
    // Several header lines are one list, in order.
    assert_eq!(
        client(
            t,
            "127.0.0.1",
            &["1.1.1.1", "198.51.100.7, 10.0.0.5"],
            &[],
            &[]
        )
        .ip,
        ip("198.51.100.7")
    );
    // All trusted: the farthest one is the client.
    assert_eq!(xff(t, "127.0.0.1", "10.0.0.9, 10.0.0.5"), ip("10.0.0.9"));
    // No header: the proxy itself.
    assert_eq!(
        client(t, "10.1.1.1", &[], &[], &[]).ip,
        ip("10.1.1.1"),
        "a trusted peer without headers"
    );
}

#[test]
fn entries_with_ports_brackets_and_odd_spacing_are_read() {
    let t = "127.0.0.1";
    for (header, want) in [
        ("198.51.100.7:4711", "198.51.100.7"),
        ("2001:db8::17", "2001:db8::17"),
        ("[2001:db8::17]", "2001:db8::17"),
        ("[2001:db8::17]:4711", "2001:db8::17"),
        ("  198.51.100.7  ,  ", "198.51.100.7"),
        (",198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ] {
        assert_eq!(xff(t, "127.0.0.1", header), ip(want), "{header}");
    }
}

#[test]
fn an_unreadable_hop_stops_the_walk_at_the_last_trusted_one() {
    let t = "127.0.0.1,10.0.0.0/8";
    // Nothing left of "unknown" can be believed: the client is the hop that wrote it.
    assert_eq!(
        xff(t, "127.0.0.1", "198.51.100.7, unknown, 10.0.0.5"),
        ip("10.0.0.5")
    );
    for garbage in [
        "unknown",
        "not-an-ip",
        "198.51.100.7:99999",
        "[2001:db8::1",
        "1.2.3.4:",
    ] {
        assert_eq!(xff(t, "127.0.0.1", garbage), ip("127.0.0.1"), "{garbage}");
    }
}

#[test]
fn forwarded_is_read_with_quoted_v6_ports_and_any_case() {
    let t = "127.0.0.1,10.0.0.0/8";
    for (header, want) in [
        ("for=198.51.100.7", "198.51.100.7"),
        ("For=198.51.100.7;Proto=https", "198.51.100.7"),
        (r#"for="[2001:db8:cafe::17]:4711""#, "2001:db8:cafe::17"),
        (r#"for="[2001:db8:cafe::17]""#, "2001:db8:cafe::17"),
        (r#"for="198.51.100.7:80";by=10.0.0.1"#, "198.51.100.7"),
        (
            "for=1.1.1.1, for=198.51.100.7;proto=https, for=10.0.0.5",
            "198.51.100.7",
        ),
        (" for = 198.51.100.7 ; host=example.org", "198.51.100.7"),
        // Quoted separators do not split.
        (
            r#"for=198.51.100.7;host="a,b;c", for=10.0.0.5"#,
            "198.51.100.7",
        ),
    ] {
        assert_eq!(fwd(t, "127.0.0.1", header).ip, ip(want), "{header}");
    }
    // Hidden or unknown nodes are not addresses.
    assert_eq!(
        fwd(t, "127.0.0.1", "for=198.51.100.7, for=_hidden").ip,
        ip("127.0.0.1")
    );
    assert_eq!(
        fwd(t, "127.0.0.1", "for=unknown;proto=https").ip,
        ip("127.0.0.1")
    );
    // An element without `for` names no one.
    assert_eq!(fwd(t, "127.0.0.1", "proto=https").ip, ip("127.0.0.1"));
}

#[test]
fn x_forwarded_for_wins_over_forwarded_so_a_passed_on_forwarded_names_nobody() {
    // nginx appends to X-Forwarded-For and passes the client's own Forwarded on unchanged.
    let c = client(
        "127.0.0.1",
        "127.0.0.1",
        &["198.51.100.7"],
        &["https"],
        &["for=1.2.3.4;proto=http"],
    );
    assert_eq!(
        c,
        Client {
            ip: ip("198.51.100.7"),
            https: true
        }
    );
    // X-Forwarded-Proto alone also selects the X- headers.
    let c = client("127.0.0.1", "127.0.0.1", &[], &["https"], &["for=1.2.3.4"]);
    assert_eq!(c.ip, ip("127.0.0.1"));
    assert!(c.https);
}

#[test]
fn https_is_what_the_proxy_that_spoke_to_the_client_says() {
    let t = "127.0.0.1,10.0.0.0/8";
    let https = |xff: &[&str], xfp: &[&str]| client(t, "127.0.0.1", xff, xfp, &[]).https;
    assert!(https(&["198.51.100.7"], &["https"]));
    assert!(https(&["198.51.100.7"], &["HTTPS"]));
    assert!(!https(&["198.51.100.7"], &["http"]));
    assert!(!https(&["198.51.100.7"], &[]));
    // One scheme per hop: the chosen hop's.
    assert!(https(&["198.51.100.7, 10.0.0.5"], &["https, http"]));
    assert!(!https(&["198.51.100.7, 10.0.0.5"], &["http, https"]));
    // Otherwise the nearest proxy's word.
    assert!(https(
        &["1.1.1.1, 198.51.100.7, 10.0.0.5"],
        &["http, https"]
    ));
    // Forwarded: the chosen element's proto, else the nearest one's.
    assert!(
        fwd(
            t,
            "127.0.0.1",
            "for=198.51.100.7;proto=https, for=10.0.0.5;proto=http"
        )
        .https
    );
    assert!(fwd(t, "127.0.0.1", "for=198.51.100.7, for=10.0.0.5;proto=https").https);
    assert!(!fwd(t, "127.0.0.1", "for=198.51.100.7;proto=http").https);
    // From an untrusted peer, never.
    assert!(!client(t, "192.0.2.1", &[], &["https"], &[]).https);
}

#[test]
fn limits_count_ipv6_clients_by_their_64() {
    let a = ClientKey::of(ip("2001:db8:1:2:aaaa::1"));
    let b = ClientKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    let other = ClientKey::of(ip("2001:db8:1:3::1"));
    assert_eq!(a, b);
    assert_ne!(a, other);
    assert_eq!(a.to_string(), "2001:db8:1:2::/64");
    assert_eq!(
        ClientKey::of(ip("198.51.100.7")),
        ClientKey::of(ip("::ffff:198.51.100.7"))
    );
    assert_ne!(
        ClientKey::of(ip("198.51.100.7")),
        ClientKey::of(ip("198.51.100.8"))
    );
    assert_eq!(
        ClientKey::of(ip("198.51.100.7")).to_string(),
        "198.51.100.7"
    );
}
