//! How PostgreSQL keeps ids and times: as `uuid` and `timestamptz` (read as [`PgTime`]).

use jiff::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::PgTime;
use crate::StoreResult;
use crate::shared::rows::StoredRow;

impl StoredRow for PgRow {
    fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        Ok(self.try_get(col)?)
    }

    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        Ok(self.try_get(col)?)
    }

    fn time(&self, col: &str) -> StoreResult<Timestamp> {
        Ok(self.try_get::<PgTime, _>(col)?.0)
    }

    fn opt_time(&self, col: &str) -> StoreResult<Option<Timestamp>> {
        Ok(self.try_get::<Option<PgTime>, _>(col)?.map(|t| t.0))
    }
}
