//! `guidance`: the command line of the Guidance service.

use clap::{Parser, Subcommand};
use guidance_server::app::Application;
use guidance_server::config::Config;

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
    /// Apply the database migrations and exit.
    Migrate {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, demo } => serve(config, demo).await,
        Command::Migrate { config } => guidance_server::app::open_store(&config)
            .await
            .map(|_| println!("Migrations applied to {}", config.database_url)),
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
        let n = guidance_server::demo::seed(app.state()).await?;
        println!("Seeded {n} demo slots.");
    }
    let url = app.state().settings.public_url.clone();
    println!("Guidance is running. Open {url}/book to book a session.");
    match guidance_server::auth::create_setup_link(app.state().store.as_ref(), &url).await? {
        Some(link) => println!(
            "No owner password is set yet. Choose one here (works once, for 24 hours):\n  {link}\nor run `guidance admin set-password`."
        ),
        None => println!("Admin: {url}/admin"),
    }
    if app.state().settings.admin_token.is_some() {
        println!(
            "Owner API: {url}/api/admin/bookings (Authorization: Bearer $GUIDANCE_ADMIN_TOKEN)"
        );
    } else {
        println!("Owner API is off: set GUIDANCE_ADMIN_TOKEN (16+ characters) to enable it.");
    }
    println!(
        "Emails are written to {}",
        app.state().settings.config.mail_dir.display()
    );
    app.run_until_stopped(shutdown_signal()).await?;
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
    let store = guidance_server::app::open_store(&config).await?;
    guidance_server::auth::set_password(store.as_ref(), password).await?;
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
