//! What the SQLite and PostgreSQL stores share, so that both keep the same rules: the column
//! lists, and the mapping of each row to its model type.

pub(crate) mod rows;
pub(crate) mod sql;
