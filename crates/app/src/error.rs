//! The one error of the application layer: the domain's refusals, an outage of the database,
//! or a fault. Each has a stable code; the web layer maps it to an HTTP status and a localized
//! message, and adds the refusals that belong to HTTP alone.

use guidance_core::{FieldErrors, FieldReason};
use guidance_store::StoreError;

/// Result of the use cases.
pub type AppResult<T> = Result<T, AppError>;

/// Why a use case refused or failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Some fields were refused, each with its reason.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// The slot is taken or no longer bookable.
    #[error("slot taken")]
    SlotTaken,
    /// The slot overlaps another one.
    #[error("slot overlap")]
    SlotOverlap,
    /// The slot is held by a booking.
    #[error("slot booked")]
    SlotBooked,
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// The link is not one of ours.
    #[error("token invalid")]
    TokenInvalid,
    /// The link is too old.
    #[error("token expired")]
    TokenExpired,
    /// The link was used already.
    #[error("token used")]
    TokenUsed,
    /// The booking moved on since the link was sent.
    #[error("token outdated")]
    TokenOutdated,
    /// The link does something else than asked.
    #[error("wrong action")]
    WrongAction,
    /// The booking's status does not allow this.
    #[error("not allowed in this status")]
    InvalidTransition,
    /// Someone else changed the booking at the same moment.
    #[error("conflict")]
    Conflict,
    /// The honeypot field, invisible to people, was filled in: a form-filling robot.
    #[error("spam suspected")]
    SpamSuspected,
    /// The requester's address already has as many requests awaiting the owner as allowed.
    #[error("too many pending requests")]
    TooManyPending,
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// The owner has closed booking for now.
    #[error("booking is closed")]
    BookingClosed,
    /// The database cannot be reached for now; the same request may succeed in a moment. Its
    /// transaction did not commit, unless the connection broke while the commit's answer was on
    /// its way (which no client of a remote database can rule out).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Something broke on our side.
    #[error("internal error: {0}")]
    Internal(String),
    /// Too much of a deliberately slow kind of work (password hashing) is waiting already; the
    /// same request may succeed in a moment.
    #[error("busy")]
    Busy,
}

impl AppError {
    /// The stable error code (JSON `error.code`, and the locale key `errors.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::SlotTaken => "slot_taken",
            AppError::SlotOverlap => "slot_overlap",
            AppError::SlotBooked => "slot_booked",
            AppError::NotFound => "not_found",
            AppError::TokenInvalid => "token_invalid",
            AppError::TokenExpired => "token_expired",
            AppError::TokenUsed => "token_used",
            AppError::TokenOutdated => "token_outdated",
            AppError::WrongAction => "wrong_action",
            AppError::InvalidTransition => "invalid_transition",
            AppError::Conflict => "conflict",
            AppError::SpamSuspected => "spam_suspected",
            AppError::TooManyPending => "too_many_pending",
            AppError::Unauthorized => "unauthorized",
            AppError::BookingClosed => "booking_closed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
            AppError::Busy => "busy",
        }
    }

    /// A single refused field.
    pub fn field(name: &str, reason: FieldReason) -> Self {
        AppError::Invalid(FieldErrors::one(name, reason))
    }

    /// Whether this is a fault or an outage rather than a refusal: what stops a batch of
    /// changes instead of being reported per item.
    pub fn is_failure(&self) -> bool {
        matches!(self, AppError::Internal(_) | AppError::Unavailable(_))
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SlotTaken => AppError::SlotTaken,
            StoreError::SlotOverlap => AppError::SlotOverlap,
            StoreError::SlotBooked => AppError::SlotBooked,
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict,
            StoreError::TokenUsed => AppError::TokenUsed,
            StoreError::Unavailable(e) => AppError::Unavailable(e.to_string()),
            StoreError::TooManyPending => AppError::TooManyPending,
            other => AppError::Internal(other.to_string()),
        }
    }
}
