//! DKIM with keys made here and DNS answers handed to the verifier (no network): a signature
//! that passes, and ones that fail (changed body, another key, another domain).

use base64::Engine;
use guidance_inbox::auth::{AuthFailure, Authenticated, authenticate};
use guidance_inbox::{DkimVerifier, read_email};
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use ring::signature::KeyPair;

const OWNER: &str = "owner@example.org";
const MESSAGE: &str = "From: Owner <owner@example.org>\r\nTo: guidance@service.example\r\n\
Subject: Accepted: Guidance session\r\nDate: Tue, 1 Jan 2030 10:00:00 +0000\r\n\
Message-ID: <reply-1@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/calendar; method=REPLY; charset=UTF-8\r\n\r\n\
BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n";
const HEADERS: [&str; 5] = ["From", "To", "Subject", "Date", "Message-ID"];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An Ed25519 key (RFC 8463) and its DNS record.
fn ed25519() -> (Ed25519Key, String) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let record = format!("v=DKIM1; k=ed25519; p={}", b64(pair.public_key().as_ref()));
    (
        Ed25519Key::from_pkcs8_der(pkcs8.as_ref()).expect("signing key"),
        record,
    )
}

/// An RSA-2048 key, as Gmail and Microsoft sign with, made by the openssl command, and its
/// DNS record.
fn rsa() -> (RsaKey<Sha256>, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("the openssl command is needed to make RSA test keys (Debian: openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let path = key.to_str().unwrap();
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path,
    ]);
    let public = run(&["pkey", "-in", path, "-pubout", "-outform", "DER"]);
    let private = run(&[
        "pkcs8", "-topk8", "-nocrypt", "-in", path, "-outform", "DER",
    ]);
    let record = format!("v=DKIM1; k=rsa; p={}", b64(&public));
    let der = rustls_pki_types::PrivateKeyDer::Pkcs8(private.into());
    (
        RsaKey::<Sha256>::from_key_der(der).expect("RSA key"),
        record,
    )
}

fn signed_ed25519(key: Ed25519Key, domain: &str, message: &str) -> String {
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector("s1")
        .headers(HEADERS)
        .sign(message.as_bytes())
        .expect("signed");
    format!("{}{message}", sig.to_header())
}

fn signed_rsa(key: RsaKey<Sha256>, domain: &str, message: &str) -> String {
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector("s1")
        .headers(HEADERS)
        .sign(message.as_bytes())
        .expect("signed");
    format!("{}{message}", sig.to_header())
}

async fn verdict(verifier: &DkimVerifier, raw: &str) -> Result<Authenticated, AuthFailure> {
    let pass = verifier.passing_domains(raw.as_bytes()).await;
    let email = read_email(raw.as_bytes()).expect("an email");
    authenticate(&email, &pass, None, OWNER)
}

#[tokio::test]
async fn an_owners_signature_passes_and_a_changed_message_fails() {
    let (key, record) = ed25519();
    let verifier = DkimVerifier::offline(&[("s1._domainkey.example.org", &record)]).unwrap();
    let raw = signed_ed25519(key, "example.org", MESSAGE);
    assert_eq!(
        verdict(&verifier, &raw).await,
        Ok(Authenticated::Dkim("example.org".into()))
    );
    let tampered = raw.replace("METHOD:REPLY\r\nEND", "METHOD:REPLY\r\nX:1\r\nEND");
    assert_eq!(
        verdict(&verifier, &tampered).await,
        Err(AuthFailure::NotAuthenticated)
    );
    let unsigned = MESSAGE.to_owned();
    assert_eq!(
        verdict(&verifier, &unsigned).await,
        Err(AuthFailure::NotAuthenticated)
    );
}

#[tokio::test]
async fn rsa_signatures_pass_with_their_key_only() {
    let (key, record) = rsa();
    let (other_key, _) = rsa();
    let verifier = DkimVerifier::offline(&[("s1._domainkey.example.org", &record)]).unwrap();
    let raw = signed_rsa(key, "example.org", MESSAGE);
    assert!(verdict(&verifier, &raw).await.is_ok());
    // Signed by someone else's key for the owner's domain.
    let forged = signed_rsa(other_key, "example.org", MESSAGE);
    assert_eq!(
        verdict(&verifier, &forged).await,
        Err(AuthFailure::NotAuthenticated)
    );
}

#[tokio::test]
async fn a_signature_of_another_domain_is_not_the_owners() {
    let (key, record) = ed25519();
    let verifier = DkimVerifier::offline(&[("s1._domainkey.attacker.example", &record)]).unwrap();
    let raw = signed_ed25519(key, "attacker.example", MESSAGE);
    assert_eq!(
        verifier.passing_domains(raw.as_bytes()).await,
        vec!["attacker.example".to_owned()]
    );
    assert_eq!(
        verdict(&verifier, &raw).await,
        Err(AuthFailure::NotAuthenticated)
    );
}
