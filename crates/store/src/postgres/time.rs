//! PostgreSQL's `timestamptz` as whole-second [`Timestamp`]s.

use jiff::Timestamp;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// A [`Timestamp`] as PostgreSQL's `timestamptz`, kept to whole seconds like the SQLite store,
/// so both stores hand back the very same values.
#[derive(Debug, Clone, Copy)]
pub struct PgTime(pub Timestamp);

/// `timestamptz` in `pg_type`.
const TIMESTAMPTZ_OID: u32 = 1184;

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix seconds.
const PG_EPOCH_UNIX: i64 = 946_684_800;

impl Type<Postgres> for PgTime {
    fn type_info() -> PgTypeInfo {
        // By its fixed OID: a type named by its name is looked up with a query of sqlx's own.
        PgTypeInfo::with_oid(Oid(TIMESTAMPTZ_OID))
    }
}

impl Encode<'_, Postgres> for PgTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let micros = (self.0.as_second() - PG_EPOCH_UNIX) * 1_000_000;
        <i64 as Encode<Postgres>>::encode_by_ref(&micros, buf)
    }
}

impl<'r> Decode<'r, Postgres> for PgTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let micros = <i64 as Decode<Postgres>>::decode(value)?;
                let secs = micros.div_euclid(1_000_000) + PG_EPOCH_UNIX;
                Ok(PgTime(Timestamp::from_second(secs)?))
            }
            PgValueFormat::Text => {
                // A simple query's rows (see `super::one_trip`) come as text, in the ISO style
                // with the UTC offset that sqlx's connections ask for: `2026-12-07 19:40:00+00`.
                let t: Timestamp = value.as_str()?.parse()?;
                let floor = i64::from(t.subsec_nanosecond() < 0);
                Ok(PgTime(Timestamp::from_second(t.as_second() - floor)?))
            }
        }
    }
}
