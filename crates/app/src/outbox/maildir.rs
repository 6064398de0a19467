//! Delivery into a directory: each email an `.eml` file, the default when no SMTP server is
//! configured, so a first run needs nothing.

use std::path::PathBuf;

use guidance_store::OutboxMessage;
use rand::Rng;

use super::Mailer;

/// Writes each message as an `.eml` file into a directory: the default when no SMTP server is
/// configured, so a first run needs nothing.
#[derive(Debug, Clone)]
pub struct MailDirMailer {
    dir: PathBuf,
}

impl MailDirMailer {
    /// Delivers into `dir`, creating it when missing.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl Mailer for MailDirMailer {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        // Every delivery is a new file, never an overwrite: named by creation time, kind and id
        // plus a random suffix, and linked into place only if that name is free. A second
        // delivery of the same email (which the outbox lease should prevent) thus shows up as a
        // second file with the same Message-ID instead of vanishing. The directory and the files
        // are the service user's alone: emails hold visitors' data and working links.
        let stamp = msg.created_at.strftime("%Y%m%dT%H%M%SZ");
        let suffix: u64 = rand::rng().random();
        let name = format!("{stamp}-{}-{}-{suffix:016x}.eml", msg.kind, msg.id);
        let dir = self.dir.clone();
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let bytes = msg.message.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            crate::private_files::create_dir(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let written = (|| {
                let mut file = crate::private_files::new_file().open(&tmp)?;
                file.write_all(&bytes)?;
                drop(file);
                // A hard link fails when the name exists: the file appears whole, or not at all.
                std::fs::hard_link(&tmp, &path)
            })();
            let _ = std::fs::remove_file(&tmp);
            written.map_err(|e| format!("cannot write {}: {e}", path.display()))
        })
        .await
        .map_err(|e| format!("writing the email stopped: {e}"))?
    }
}

/// The mailer chosen by configuration: SMTP when `GUIDANCE_SMTP_URL` is set, otherwise the
/// mail directory.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `.eml` files in a directory.
    Dir(MailDirMailer),
    /// An SMTP server.
    Smtp(super::relay::SmtpMailer),
}

impl Mailer for Delivery {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        match self {
            Delivery::Dir(m) => m.send(msg).await,
            Delivery::Smtp(m) => m.send(msg).await,
        }
    }

    fn batch(&self) -> usize {
        match self {
            Delivery::Dir(m) => m.batch(),
            Delivery::Smtp(m) => m.batch(),
        }
    }

    async fn send_all(&self, msgs: &[&OutboxMessage], done: &mut Vec<Result<(), String>>) {
        match self {
            Delivery::Dir(m) => m.send_all(msgs, done).await,
            Delivery::Smtp(m) => m.send_all(msgs, done).await,
        }
    }
}
