//! PostgreSQL over TLS, as a remote database or a Supabase project needs: the store connects with
//! `sslmode=verify-full`, trusts the CA named by `sslrootcert`, and refuses a server whose
//! certificate it cannot verify.
//!
//! The local PostgreSQL speaks plain TCP, so the test puts a TLS-terminating proxy in front of
//! it that answers PostgreSQL's `SSLRequest` the way a TLS-enabled server does.

use std::sync::Arc;

use guidance_store::Store;
use guidance_store::postgres::PostgresStore;
use guidance_testkit::pg::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// PostgreSQL's `SSLRequest`: length 8, then the code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 210, 22, 47];

struct Pki {
    ca_pem: String,
    server: tokio_rustls::TlsAcceptor,
}

/// A throwaway CA and a certificate for `localhost` signed by it.
fn new_pki() -> Pki {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![server_cert.der().clone()],
        tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
    )
    .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

/// Listens on a free port. A connection that starts with `SSLRequest` is, with an acceptor,
/// answered `S`, wrapped in TLS and relayed to the local PostgreSQL; without one it is answered
/// `N` (no TLS here) and relayed in plain text. Returns the port.
async fn tls_proxy(acceptor: Option<tokio_rustls::TlsAcceptor>, upstream: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 8];
                if client.read_exact(&mut first).await.is_err() {
                    return;
                }
                let mut server = TcpStream::connect(upstream).await.unwrap();
                if first != SSL_REQUEST {
                    // A client that does not ask for TLS: relay as it is.
                    server.write_all(&first).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                match acceptor {
                    Some(acceptor) => {
                        client.write_all(b"S").await.unwrap();
                        let Ok(mut tls) = acceptor.accept(client).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                    }
                    None => {
                        client.write_all(b"N").await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }
            });
        }
    });
    port
}

/// host:port of the test PostgreSQL, from the test database's URL.
fn upstream_of(url: &str) -> String {
    let after_scheme = url.split("://").nth(1).unwrap();
    let host_part = after_scheme.split('/').next().unwrap();
    let host_port = host_part.rsplit('@').next().unwrap();
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// The test database's URL pointed at the proxy on `localhost:port`, with TLS options.
fn through_proxy(url: &str, port: u16, tls: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    let path = path.split('?').next().unwrap();
    format!("{scheme}://{user}localhost:{port}/{path}?{tls}")
}

#[tokio::test]
async fn the_store_connects_over_verified_tls() {
    let db = TestDatabase::create().await;
    PostgresStore::migrate(&db.url)
        .await
        .expect("migrate")
        .close()
        .await;
    let pki = new_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let port = tls_proxy(Some(pki.server.clone()), upstream_of(&db.url)).await;

    let url = through_proxy(
        &db.url,
        port,
        &format!("sslmode=verify-full&sslrootcert={}", ca_file.display()),
    );
    let store = PostgresStore::connect(&url)
        .await
        .expect("a verified TLS connection");
    let now = jiff::Timestamp::now();
    let slots = store
        .list_slots(
            now,
            now.checked_add(jiff::SignedDuration::from_hours(24))
                .unwrap(),
            None,
        )
        .await
        .expect("queries run over TLS");
    assert!(slots.is_empty());
    store.close().await;

    // A certificate from a CA the client does not trust is refused.
    let other = new_pki();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, &other.ca_pem).unwrap();
    let refused = through_proxy(
        &db.url,
        port,
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    assert!(
        PostgresStore::connect(&refused).await.is_err(),
        "an unverifiable server must be refused"
    );

    // `sslmode=require` against a server without TLS fails rather than going plain.
    let plain_port = tls_proxy(None, upstream_of(&db.url)).await;
    let plain = through_proxy(&db.url, plain_port, "sslmode=require");
    assert!(
        PostgresStore::connect(&plain).await.is_err(),
        "require never falls back to plain text"
    );
    // …while the same server works for a URL that does not ask for TLS.
    let store = PostgresStore::connect(&through_proxy(&db.url, plain_port, "sslmode=disable"))
        .await
        .expect("the relay itself works");
    store.close().await;
}
