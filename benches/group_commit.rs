//! The durable write path: product patches committed one transaction per
//! write versus grouped, as the store actor does, on a real SQLite file with
//! `synchronous = FULL`, and on PostgreSQL when `STORESYNC_BENCH_POSTGRES`
//! names a server (a database `storesync_bench` is made afresh there).
//! Throughput is writes per second.
//!
//! `cargo bench --bench group_commit`
//! `STORESYNC_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench group_commit`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use storesync::config::Config;
use storesync::db::queries::commit::{commit_batch, Target};
use storesync::model::change::{Change, PendingChange};
use storesync::model::ProductPatch;

fn patches(n: usize, round: i64) -> Vec<PendingChange> {
    (0..n)
        .map(|i| PendingChange {
            by: "bench".into(),
            idempotency: None,
            change: Change::PatchProduct {
                id: 100_000 + (i % 1000) as i64,
                if_match: None,
                patch: ProductPatch { stock: Some(round * 10_000 + i as i64), ..ProductPatch::default() },
            },
        })
        .collect()
}

fn bench_on(c: &mut Criterion, backend: &str, config: &Config) {
    let pool = storesync::prepare_database(config).unwrap();
    let mut conn = pool.get().unwrap();
    let target = Target { store_id: 1, tz: chrono_tz::America::New_York, archived: false };
    let writes = 1000;
    let mut group = c.benchmark_group(format!("durable_product_writes_{backend}"));
    group.throughput(Throughput::Elements(writes as u64));
    group.sample_size(10);
    let mut round = 0;
    for batch in [1, 50, 1000] {
        group.bench_function(format!("batch_{batch}"), |b| {
            b.iter_batched(
                || {
                    round += 1;
                    patches(writes, round)
                },
                |all| {
                    for chunk in all.chunks(batch) {
                        commit_batch(&mut conn, target, chunk).unwrap();
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// A fresh `storesync_bench` database on the server `server` names.
fn fresh_postgres_database(server: &str) -> String {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let mut conn = diesel::PgConnection::establish(server).unwrap();
    // One statement each: neither may run inside a (multi-statement) transaction.
    conn.batch_execute("DROP DATABASE IF EXISTS storesync_bench WITH (FORCE)").unwrap();
    conn.batch_execute("CREATE DATABASE storesync_bench").unwrap();
    let (host, _) = server.rsplit_once('/').unwrap();
    format!("{host}/storesync_bench")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.demo_password = Some("bench".into());
    bench_on(c, "sqlite", &config);
    if let Ok(server) = std::env::var("STORESYNC_BENCH_POSTGRES") {
        config.database_url = Some(fresh_postgres_database(&server));
        bench_on(c, "postgres", &config);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
