//! The `storesync` binary: parse the config, set up logging, run the
//! subcommand. Everything else lives in the library.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use storesync::config::{Cli, Command, Config, LogFormat};

fn main() -> ExitCode {
    give_large_allocations_back();
    let cli = Cli::parse();
    init_logging(&cli.config);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => storesync::db::connect(&cli.config)
            .and_then(|pool| storesync::db::migrate(&pool))
            .map(|n| log::info!(applied = n; "migrations done")),
        Command::Seed(args) => storesync::seed(&cli.config, &args),
        Command::Serve => serve(cli.config),
        Command::Load(args) => return load(*args),
        // The summary goes to stdout; logs and errors to stderr.
        Command::MigrateTo { target } => {
            storesync::db::migrate_to::run(&cli.config, &target).map(|summary| println!("{summary}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!(error = e.as_str(); "storesync failed");
            ExitCode::FAILURE
        }
    }
}

/// Serves allocations of 1 MiB and more (argon2id's 19 MiB per password
/// check, decoded images, big imports and exports) from mappings of their
/// own, returned to the system when freed. glibc's default raises its mmap
/// threshold after the first such free and serves the next ones from the
/// per-thread arenas, which keep them: every login on another blocking-pool
/// thread left about 19 MiB resident, and RSS climbed about 20 MB with each
/// round of `scripts/soak` (docs/reliability.md). Setting the threshold
/// also turns that adjustment off.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_allocations_back() {
    // SAFETY: mallopt only sets a parameter of the allocator; it runs first
    // in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_allocations_back() {}

/// env_logger at the configured level; `--log-format json` writes one JSON
/// object per line with the record's key-values as fields.
fn init_logging(config: &Config) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(&config.log_level));
    if config.log_format == LogFormat::Json {
        builder.format(|buf, record| {
            use std::io::Write;
            struct Fields(serde_json::Map<String, serde_json::Value>);
            impl<'kvs> log::kv::VisitSource<'kvs> for Fields {
                fn visit_pair(
                    &mut self,
                    key: log::kv::Key<'kvs>,
                    value: log::kv::Value<'kvs>,
                ) -> Result<(), log::kv::Error> {
                    self.0.insert(key.to_string(), serde_json::Value::String(value.to_string()));
                    Ok(())
                }
            }
            let mut fields = Fields(serde_json::Map::new());
            let _ = record.key_values().visit(&mut fields);
            fields.0.insert("ts".into(), buf.timestamp_millis().to_string().into());
            fields.0.insert("level".into(), record.level().as_str().into());
            fields.0.insert("target".into(), record.target().into());
            fields.0.insert("msg".into(), record.args().to_string().into());
            writeln!(buf, "{}", serde_json::Value::Object(fields.0))
        });
    }
    builder.init();
}

fn load(args: storesync::load::LoadArgs) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    match runtime.map_err(|e| e.to_string()).and_then(|rt| rt.block_on(storesync::load::run(args))) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            log::error!("deliveries were lost, duplicated or out of order, or a state differed from its digest");
            ExitCode::from(3)
        }
        Err(e) => {
            log::error!(error = e.as_str(); "load test failed");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: storesync::config::Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let listener = TcpListener::bind(config.addr).map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let running = storesync::run(listener, config).await?;
        running.server.await.map_err(|e| e.to_string())
    })
}
