//! The `storesync` binary: parse the config, set up logging, run the
//! subcommand. Everything else lives in the library.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use storesync::config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or(&cli.config.log_level),
    )
    .init();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => storesync::db::connect(&cli.config)
            .and_then(|pool| storesync::db::migrate(&pool))
            .map(|n| log::info!(applied = n; "migrations done")),
        Command::Seed => storesync::prepare_database(&cli.config).map(|_| ()),
        Command::Serve => serve(cli.config),
        Command::Load(args) => return load(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!(error = e.as_str(); "storesync failed");
            ExitCode::FAILURE
        }
    }
}

fn load(args: storesync::load::LoadArgs) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    match runtime
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(storesync::load::run(args)))
    {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            log::error!("deliveries were lost, duplicated or out of order");
            ExitCode::from(2)
        }
        Err(e) => {
            log::error!(error = e.as_str(); "load test failed");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: storesync::config::Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let listener = TcpListener::bind(config.addr)
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let running = storesync::run(listener, config).await?;
        running.server.await.map_err(|e| e.to_string())
    })
}
