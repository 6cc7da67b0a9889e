//! The durable write path: product patches committed one transaction per
//! write versus grouped, as the store actor does, on a real SQLite file with
//! `synchronous = FULL`. Throughput is writes per second.
//!
//! `cargo bench --bench group_commit`

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

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.demo_password = Some("bench".into());
    let pool = storesync::prepare_database(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let target = Target { store_id: 1, tz: chrono_tz::America::New_York };
    let writes = 1000;
    let mut group = c.benchmark_group("durable_product_writes");
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

criterion_group!(benches, bench);
criterion_main!(benches);
