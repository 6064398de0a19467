//! The owner API's bodies for erasing a visitor's data.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{Field, FieldErrors, wrong_types};

/// Whose data to erase: every booking of this address (compared trimmed, ignoring case), its
/// emails, history texts, kept answers and calendar replies.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.org"}))]
pub struct EraseRequest {
    /// The visitor's email address.
    #[schema(value_type = String, required = true, max_length = 254)]
    #[serde(default)]
    pub email: Field<String>,
}

impl EraseRequest {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; email)
    }
}

/// What an erase did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasedBody {
    /// How many bookings had the visitor's data erased (live ones were cancelled first); they
    /// keep their times and status.
    pub erased: usize,
}
