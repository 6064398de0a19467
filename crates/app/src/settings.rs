//! The owner's settings in force: the configured defaults with the stored values laid over them
//! (the rules themselves are in [`guidance_core::owner_settings`]). Read from the store on use
//! (kept for a moment), so that every `serve` process of a scale-out sees a change soon.

use guidance_core::OwnerSettings;
use guidance_core::owner_settings::{SettingsChange, SettingsForm, parse};

use crate::config::Settings;
use crate::{App, AppError, AppResult};

/// The configured defaults: what is in force before the owner stores anything.
pub fn defaults(settings: &Settings) -> OwnerSettings {
    let c = &settings.config;
    OwnerSettings {
        booking_open: true,
        owner_name: c.owner_name.trim().to_owned(),
        owner_email: c.owner_email.trim().to_owned(),
        time_zone: settings.time_zone.clone(),
        language: guidance_core::i18n::resolve(&c.owner_language),
        min_notice_hours: 0,
        horizon_days: i64::from(c.booking_horizon_days),
        confirm_email: false,
        // Around the session.
        answer_within_hours: 48,
        answer_reminder_hours: 12,
        reminder_offsets_minutes: Default::default(),
        remind_owner: false,
        proposed_time_needs_approval: false,
        busy_buffer_minutes: 0,
        calendar_fail_open: false,
        retention_days: guidance_core::owner_settings::DEFAULT_RETENTION_DAYS,
    }
}

/// The settings in force now.
pub async fn load(app: &App) -> AppResult<OwnerSettings> {
    let stored = app
        .settings_kept
        .get_or_load((), || app.store.settings())
        .await?;
    let (owner, ignored) = defaults(&app.settings).with_stored(&stored);
    if !ignored.is_empty() {
        tracing::warn!(fields = ?ignored, "ignoring stored settings that no longer parse");
    }
    Ok(owner)
}

/// The settings in force, or the configured defaults when they cannot be read: for what only
/// shows them (a page's owner name and language, the time zone of a demo) and need not fail.
pub async fn load_or_defaults(app: &App) -> OwnerSettings {
    match load(app).await {
        Ok(owner) => owner,
        Err(e) => {
            tracing::warn!(error = %e, "owner settings unreadable; showing the configured defaults");
            defaults(&app.settings)
        }
    }
}

/// Checks and stores a settings form (the admin UI's settings page).
pub async fn save(app: &App, form: &SettingsForm) -> AppResult<OwnerSettings> {
    let parsed = parse(form).map_err(AppError::Invalid)?;
    store(app, parsed).await
}

/// Lays a change of some settings (the owner API's) over those in force, checks the whole and
/// stores it; every refused field at once, the change's own refusals among them.
pub async fn change(app: &App, change: &SettingsChange) -> AppResult<OwnerSettings> {
    let changed = load(app)
        .await?
        .changed(change)
        .map_err(AppError::Invalid)?;
    store(app, changed).await
}

async fn store(app: &App, parsed: OwnerSettings) -> AppResult<OwnerSettings> {
    app.store
        .save_settings(&parsed.to_stored(), app.now())
        .await?;
    app.settings_kept.invalidate();
    tracing::info!(booking_open = parsed.booking_open, "owner settings saved");
    Ok(parsed)
}
