//! A throwaway certificate authority for the TLS tests: a CA and a server certificate it signed
//! for `localhost` and 127.0.0.1, written as PEM files (`cert.pem` and `key.pem` for a server,
//! `ca.pem` for the client that is to trust it).

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The PEM files of one throwaway authority, removed when dropped.
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    /// A new authority whose name starts with `name`, and a server certificate it signed.
    pub fn new(name: &str) -> TestPki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a CA key"))
            .expect("a CA certificate");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("a server key");
        let cert = params.signed_by(&key, &ca).expect("a server certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write ca.pem");
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).expect("write cert.pem");
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("write key.pem");
        TestPki { dir }
    }

    /// The authority's certificate, for the client.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate.
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The server's private key.
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }
}
