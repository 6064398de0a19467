//! The owner API's bodies for the owner's calendars and feed.

use guidance_app::calendars::SourceView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{Field, FieldErrors, wrong_types};

/// A calendar source to add: an ICS address, or a CalDAV collection with its user name and
/// app password. The address and password are stored sealed and never shown again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Work", "url": "https://calendar.example/private-abc/basic.ics"}))]
pub struct NewCalendar {
    /// The owner's name for it.
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    pub name: Field<String>,
    /// Its https address (`webcal://` is read as https).
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    pub url: Field<String>,
    /// CalDAV user name (makes it a CalDAV source).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub username: Field<String>,
    /// CalDAV app password.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub password: Field<String>,
}

impl NewCalendar {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; name, url, username, password)
    }
}

/// A calendar source as the owner sees it: never its address or password.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarBody {
    /// Its id.
    pub id: uuid::Uuid,
    /// The owner's name for it.
    pub name: String,
    /// `ics` or `caldav`.
    pub kind: &'static str,
    /// The host it is read from.
    pub host: String,
    /// When it was last polled, RFC 3339.
    pub last_poll: Option<String>,
    /// When a poll last succeeded, RFC 3339.
    pub last_success: Option<String>,
    /// Since when it fails, RFC 3339.
    pub failing_since: Option<String>,
    /// The last poll's error, if it failed.
    pub error: Option<String>,
    /// How many busy intervals it holds.
    pub busy_intervals: i64,
}

impl From<SourceView> for CalendarBody {
    fn from(s: SourceView) -> Self {
        let at = |t: Option<jiff::Timestamp>| t.map(guidance_core::slot::format_utc);
        CalendarBody {
            id: s.id,
            name: s.name,
            kind: s.kind.as_str(),
            host: s.host,
            last_poll: at(s.last_polled_at),
            last_success: at(s.last_success_at),
            failing_since: at(s.failing_since),
            error: s.error,
            busy_intervals: s.busy_intervals,
        }
    }
}

/// Every calendar source.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    /// Oldest first.
    pub calendars: Vec<CalendarBody>,
}

/// The owner's feed address: subscribe to it in any calendar app. Keep it secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedBody {
    /// `https://…/feed/<secret>.ics`.
    pub url: String,
}
