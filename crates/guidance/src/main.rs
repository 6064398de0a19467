//! `guidance`: the command line of the Guidance service.

use clap::{Parser, Subcommand};
use guidance::startup::{self, Application};
use guidance::telemetry;
use guidance_app::config::Config;
use guidance_app::owner_auth;

/// mimalloc rather than the C library's allocator: a booking renders, seals and writes emails
/// through many short-lived buffers, and glibc's malloc, free and realloc took about a sixth of
/// the server's CPU time under load (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "guidance",
    version,
    about = "Self-hosted guidance-session booking"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and the outbox worker.
    Serve {
        #[command(flatten)]
        config: Config,
        /// Seed two weeks of demo slots (skipping any that overlap existing ones).
        #[arg(long)]
        demo: bool,
    },
    /// Run the outbox worker (and the expiry of overdue bookings) without HTTP, for scale-out.
    Worker {
        #[command(flatten)]
        config: Config,
    },
    /// Copy a site's data from its SQLite database into a new, empty PostgreSQL database
    /// (migrated first), keeping ids, statuses, token hashes and queued emails.
    CopyData {
        /// The SQLite database, e.g. `sqlite://data/guidance.db`.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database, e.g. `postgres://user@host:5432/guidance`. Must be empty.
        #[arg(long)]
        to: String,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Check the configuration as `serve` reads it, line by line: settings, public URL,
    /// secret, addresses, database (reachable, migrated), SMTP (TLS and sign-in, no message
    /// sent). Exits non-zero on a problem.
    Check {
        #[command(flatten)]
        config: Config,
    },
    /// Copy the SQLite database, consistently while the service runs, into a new file
    /// (never overwriting one; readable by you only). For PostgreSQL, use `pg_dump`.
    Backup {
        /// The file to write; it must not exist.
        file: std::path::PathBuf,
        #[command(flatten)]
        config: Config,
    },
    /// Put a backup in place as the configured SQLite database, which must not exist: stop the
    /// service and move the old database (and its -wal and -shm files) aside first.
    Restore {
        /// The backup to restore.
        file: std::path::PathBuf,
        #[command(flatten)]
        config: Config,
    },
    /// Owner administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set the owner's admin password, read from the first line of standard input
    /// (e.g. `guidance admin set-password < file`). Signs out every session.
    SetPassword {
        #[command(flatten)]
        config: Config,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match telemetry::LogFormat::from_env() {
        Ok(format) => telemetry::init(format),
        Err(e) => {
            eprintln!("guidance: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, demo } => serve(config, demo).await,
        Command::Worker { config } => worker(config).await,
        Command::CopyData { from, to } => copy_data(&from, &to).await,
        Command::Migrate { config } => startup::migrate(&config)
            .await
            .map(|()| println!("Migrations applied.")),
        Command::Check { config } => guidance::ops::check(&config).await,
        Command::Backup { file, config } => guidance::ops::backup(&config, &file).await,
        Command::Restore { file, config } => guidance::ops::restore(&config, &file).await,
        Command::Admin {
            command: AdminCommand::SetPassword { config },
        } => set_password(config).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guidance: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, demo: bool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let app = Application::build(config).await?;
    if demo {
        let n = guidance_app::demo::seed(app.app()).await?;
        println!("Seeded {n} demo slots.");
    }
    if let Ok(addr) = app.local_addr() {
        println!("Listening on {addr}");
    }
    if let Some(addr) = app.metrics_addr() {
        println!("Metrics on http://{addr}/metrics");
    } else if app.app().settings.metrics_on_main_port() {
        println!("Metrics on /metrics (Authorization: Bearer $GUIDANCE_METRICS_TOKEN)");
    }
    let url = app.app().settings.public_url.clone();
    println!("Guidance is running. Open {url}/book to book a session.");
    match owner_auth::create_setup_link(app.app()).await? {
        Some(link) => println!(
            "No owner password is set yet. Choose one here (works once, for 24 hours):\n  {link}\nor run `guidance admin set-password`."
        ),
        None => println!("Admin: {url}/admin"),
    }
    if app.app().settings.admin_token.is_some() {
        println!(
            "Owner API: {url}/api/admin/bookings (Authorization: Bearer $GUIDANCE_ADMIN_TOKEN)"
        );
    } else {
        println!("Owner API is off: set GUIDANCE_ADMIN_TOKEN (16+ characters) to enable it.");
    }
    match &app.app().settings.smtp {
        Some(smtp) => println!("Emails are sent through {}:{}", smtp.host, smtp.port),
        None => println!(
            "Emails are written to {}",
            app.app().settings.config.mail_dir.display()
        ),
    }
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

async fn worker(config: Config) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let worker = startup::Worker::build(config).await?;
    if let Some(addr) = worker.metrics_addr() {
        println!("Metrics on http://{addr}/metrics");
    }
    println!("Guidance worker is running: sending queued emails and expiring overdue bookings.");
    worker.run_until_stopped(shutdown_signal()).await;
    Ok(())
}

async fn copy_data(from: &str, to: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use startup::is_postgres_url;
    if is_postgres_url(from) || !is_postgres_url(to) {
        return Err(
            "copy-data copies from SQLite (--from sqlite://…) to PostgreSQL (--to postgres://…)"
                .into(),
        );
    }
    let path = from.strip_prefix("sqlite://").unwrap_or(from);
    if !std::path::Path::new(path.split('?').next().unwrap_or(path)).is_file() {
        return Err(format!("no SQLite database at {path}").into());
    }
    let source = guidance_store::sqlite::SqliteStore::open_url(from).await?;
    let report = guidance_store::copy::sqlite_to_postgres(&source, to).await?;
    for (table, rows) in report {
        println!("{table}: {rows} rows copied");
    }
    println!("Done. Point GUIDANCE_DATABASE_URL at the PostgreSQL database.");
    Ok(())
}

/// Reads the new password from stdin's first line (so that it never shows in `ps` or the
/// shell history), then stores its argon2id hash.
async fn set_password(config: Config) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        eprintln!("New owner password (at least 10 characters; it will be visible as you type):");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    let store = startup::open_store(&config).await?;
    owner_auth::set_password(
        store.as_ref(),
        password,
        guidance_app::Clock::system().now(),
    )
    .await?;
    println!("The owner password is set; every earlier session is signed out.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
