//! What the SQLite and PostgreSQL stores share, so that both keep the same rules: the column
//! lists and common statements ([`sql`]), the mapping of each row to its model type ([`rows`]),
//! the reads ([`reads`]), and the writes whose steps, order and refusals are rules of the domain
//! ([`booking`], [`slots`], [`outbox`], [`owner`], [`settings`]). They are written over the
//! small part that differs between the databases ([`tx::Tx`], [`tx::Db`]): how values are
//! encoded, where statements run, row locks, the per-address lock, `jsonb`.

pub(crate) mod booking;
pub(crate) mod calendars;
pub(crate) mod connections;
pub(crate) mod erasure;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod outbox;
pub(crate) mod owner;
pub(crate) mod proposals;
pub(crate) mod reads;
pub(crate) mod reminders;
pub(crate) mod replies;
pub(crate) mod rows;
pub(crate) mod settings;
pub(crate) mod slots;
pub(crate) mod sql;
pub(crate) mod tx;
pub(crate) mod webhooks;
