//! What the SQLite and PostgreSQL stores share, so that both keep the same rules: the column
//! lists and the reads ([`sql`]), the mapping of each row to its model type ([`rows`]), and the
//! transactions whose steps, order and refusals are rules of the domain ([`booking`], [`slots`],
//! [`owner`], [`settings`]), written over the small part that differs between the databases
//! ([`tx::Tx`]: value encoding, row locks, the per-address lock, `jsonb`).

pub(crate) mod booking;
pub(crate) mod owner;
pub(crate) mod rows;
pub(crate) mod settings;
pub(crate) mod slots;
pub(crate) mod sql;
pub(crate) mod tx;
