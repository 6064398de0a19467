//! DKIM verification (RFC 6376) with the `mail-auth` crate. Public keys come from DNS (the
//! system's resolver) and are kept for as long as their records say; tests hand the verifier
//! their own keys instead ([`DkimVerifier::offline`]), so that no test touches the network.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};

/// How many DNS answers are kept at most; a reply mailbox sees few signing domains.
const MAX_KEPT: usize = 1024;

/// DNS answers kept until they expire.
#[derive(Default)]
struct TxtCache(Mutex<HashMap<String, (Txt, Instant)>>);

impl ResolverCache<String, Txt> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(name)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(txt, _)| txt.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(name).map(|(txt, _)| txt)
    }

    fn insert(&self, key: String, value: Txt, valid_until: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEPT {
            let now = Instant::now();
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= MAX_KEPT {
                map.clear();
            }
        }
        map.insert(key, (value, valid_until));
    }
}

/// Verifies the DKIM signatures of an email.
#[derive(Clone)]
pub struct DkimVerifier {
    authenticator: Arc<MessageAuthenticator>,
    cache: Arc<TxtCache>,
}

impl std::fmt::Debug for DkimVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimVerifier").finish_non_exhaustive()
    }
}

impl DkimVerifier {
    /// A verifier asking the system's DNS resolver (`/etc/resolv.conf`).
    pub fn system() -> Result<Self, String> {
        let authenticator = MessageAuthenticator::new_system_conf()
            .map_err(|e| format!("no DNS resolver for DKIM keys: {e}"))?;
        Ok(Self {
            authenticator: Arc::new(authenticator),
            cache: Arc::default(),
        })
    }

    /// A verifier that knows only `records` (`(selector._domainkey.domain, TXT value)`) and asks
    /// no DNS server at all: every other key is "not found". For tests.
    pub fn offline(records: &[(&str, &str)]) -> Result<Self, String> {
        let config =
            ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::with_capacity(0));
        let authenticator = MessageAuthenticator::new(config, ResolverOpts::default())
            .map_err(|e| format!("resolver: {e}"))?;
        let cache = TxtCache::default();
        let forever = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
        for (name, value) in records {
            let key = DomainKey::parse(value.as_bytes())
                .map_err(|e| format!("{name}: not a DKIM key record: {e}"))?;
            let fqdn = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
            cache.insert(fqdn, Txt::DomainKey(Arc::new(key)), forever);
        }
        Ok(Self {
            authenticator: Arc::new(authenticator),
            cache: Arc::new(cache),
        })
    }

    /// The `d=` domains, lower-cased, of the signatures on `raw` that verify.
    pub async fn passing_domains(&self, raw: &[u8]) -> Vec<String> {
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Vec::new();
        };
        let outputs = self
            .authenticator
            .verify_dkim(Parameters::new(&message).with_txt_cache(self.cache.as_ref()))
            .await;
        outputs
            .iter()
            .filter(|o| matches!(o.result(), DkimResult::Pass))
            .filter_map(|o| o.signature().map(|s| s.d.to_ascii_lowercase()))
            .collect()
    }
}
