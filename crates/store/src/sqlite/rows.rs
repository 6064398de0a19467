//! How SQLite keeps ids and times: as text, ids hyphenated in lowercase and times in RFC 3339,
//! UTC, whole seconds (so that text order is time order).

use std::str::FromStr;

use guidance_core::slot::format_utc;
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::shared::rows::{PlainColumns, StoredRow};
use crate::{StoreError, StoreResult};

/// A time as SQLite keeps it.
pub(super) fn ts(t: Timestamp) -> String {
    format_utc(t)
}

/// A time written by [`ts`], read back; `col` names it in the error.
fn parse_ts(col: &str, s: &str) -> StoreResult<Timestamp> {
    Timestamp::from_str(s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// An id as SQLite keeps it, read back; `col` names it in the error.
fn parse_uuid(col: &str, s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

impl StoredRow for SqliteRow {
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        parse_uuid(col, &self.text(col)?)
    }

    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        self.opt_text(col)?.map(|s| parse_uuid(col, &s)).transpose()
    }

    fn time(&self, col: &str) -> StoreResult<Timestamp> {
        parse_ts(col, &self.text(col)?)
    }

    fn opt_time(&self, col: &str) -> StoreResult<Option<Timestamp>> {
        self.opt_text(col)?.map(|s| parse_ts(col, &s)).transpose()
    }
}
