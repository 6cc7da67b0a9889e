//! A store's live state at 1,200, 10,000 and 100,000 products: search and
//! sorted pages, a write and its flush with 0, 1 and 10 distinct filtered
//! views subscribed, the state's memory per product, and its build (what
//! a reload does after reading the database) up to the first page.
//!
//! `reload` is the whole of a reload: store s2 of a seeded SQLite file,
//! grown to each size by imports of 10,000 rows, read from the database
//! (`stores::load`) and built, up to its first page.
//!
//! `cargo bench --bench store_scale` (memory is printed first, then
//! criterion's timings). Only public API the store had before its indexes
//! is used, so the same file measures an older build too.

use std::alloc::{GlobalAlloc, Layout};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;

use actix::prelude::*;
use actix_web::body::MessageBody;
use chrono::Utc;
use criterion::{BatchSize, Criterion};
use futures_util::task::noop_waker_ref;
use serde_json::json;
use storesync::auth::Role;
use storesync::config::Config;
use storesync::db::queries::commit::{commit_batch, Target};
use storesync::db::queries::stores;
use storesync::model::change::{Change, PendingChange};
use storesync::model::change::{CommittedBatch, Effect};
use storesync::model::NewProduct;
use storesync::model::{Event, EventKind, Product, ProductStatus, SortDir, SortField, View};
use storesync::ops::metrics::Metrics;
use storesync::store::fanout::{Fanout, Subscriber};
use storesync::store::state::StoreState;
use storesync::testkit::{self, EvictionSink};
use storesync::wire::outbox::{Evicted, Outbox, OutboxBody};
use storesync::wire::protocol::Topics;

/// Counts the heap bytes live, for memory per product.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        ALLOCATIONS.fetch_add(1, Relaxed);
        std::alloc::System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        ALLOCATIONS.fetch_sub(1, Relaxed);
        std::alloc::System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        std::alloc::System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const SIZES: [i64; 3] = [1_200, 10_000, 100_000];

/// A catalogue: names of colour, material, item and id ("Navy Wool Scarf
/// 4711"), SKUs by item, mostly active, figures spread out.
fn catalog(n: i64) -> Vec<Product> {
    const COLOURS: [&str; 10] = ["Red", "Blue", "Green", "Black", "White", "Grey", "Navy", "Olive", "Amber", "Ivory"];
    const MATERIALS: [&str; 10] =
        ["Cotton", "Wool", "Linen", "Steel", "Oak", "Glass", "Leather", "Silk", "Clay", "Bamboo"];
    const ITEMS: [&str; 12] =
        ["Shirt", "Lamp", "Mug", "Chair", "Scarf", "Bowl", "Jacket", "Vase", "Table", "Sock", "Hat", "Bag"];
    (1..=n)
        .map(|id| {
            let h = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
            let item = ITEMS[(h / 100 % 12) as usize];
            let status = match h % 20 {
                0 => ProductStatus::Archived,
                1..=3 => ProductStatus::Draft,
                _ => ProductStatus::Active,
            };
            Product {
                sku: format!("{}-{id:06}", item.to_uppercase()),
                name: format!("{} {} {item} {id}", COLOURS[(h % 10) as usize], MATERIALS[(h / 10 % 10) as usize]),
                price: 100 + (h % 100_000) as i64,
                stock: (h / 7 % 500) as i64,
                status,
                units_sold: (h / 11 % 1_000) as i64,
                revenue: (h / 13 % 1_000_000) as i64,
                ..testkit::product(id)
            }
        })
        .collect()
}

fn state(n: i64) -> StoreState {
    testkit::store_state(chrono_tz::UTC, catalog(n), 4096)
}

/// Ten distinct filtered views, as dashboards hold them.
fn filtered_views() -> Vec<View> {
    let searches = ["blue", "wool", "red shirt", "lamp", "steel", "green", "cotton", "mug", "black", "oak"];
    let sorts = [
        (SortField::Revenue, SortDir::Desc),
        (SortField::Price, SortDir::Asc),
        (SortField::Name, SortDir::Asc),
        (SortField::UpdatedAt, SortDir::Desc),
        (SortField::Stock, SortDir::Asc),
    ];
    (0..10)
        .map(|i| View {
            q: Some(searches[i].into()),
            sort: sorts[i % sorts.len()].0,
            dir: sorts[i % sorts.len()].1,
            status: (i % 2 == 0).then_some(ProductStatus::Active),
            ..View::default()
        })
        .collect()
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// Heap and RSS per product of a built state, then with every index in
/// use (each column paged once, one search).
fn report_memory() {
    for n in SIZES {
        let (heap, allocations, rss) = (LIVE.load(Relaxed), ALLOCATIONS.load(Relaxed), rss_bytes());
        let state = state(n);
        let per = |now: usize, before: usize| now.saturating_sub(before) as f64 / n as f64;
        let built = (per(LIVE.load(Relaxed), heap), per(ALLOCATIONS.load(Relaxed), allocations));
        for sort in SortField::ALL {
            state.page(&View { sort, ..View::default() });
        }
        state.page(&View { q: Some("blue".into()), ..View::default() });
        println!(
            "memory/{n}: {:.0} B/product heap ({:.1} allocations), {:.0} B with every index, RSS +{:.0} B/product",
            built.0,
            built.1,
            per(LIVE.load(Relaxed), heap),
            per(rss_bytes(), rss),
        );
        drop(state);
    }
}

fn subscribe(fanout: &mut Fanout, state: &StoreState, id: u64, view: View, sink: &Recipient<Evicted>) -> OutboxBody {
    let metrics = Metrics::new();
    let body = OutboxBody::new(64, metrics);
    let outbox = Outbox::new(id, body.queue(), sink.clone());
    fanout.add(Subscriber { outbox, role: Role::Viewer, topics: Topics::ALL, view, follow: false, sent_to: state.seq });
    body
}

/// Writes out what each outbox holds, as the HTTP dispatcher would.
fn drain(bodies: &mut [OutboxBody]) {
    let mut cx = std::task::Context::from_waker(noop_waker_ref());
    for body in bodies {
        while let Poll::Ready(Some(_)) = Pin::new(&mut *body).poll_next(&mut cx) {}
    }
}

/// A stock edit of one product, committed: applied to the state and
/// flushed to the subscribers.
fn write_and_flush(state: &mut StoreState, fanout: &mut Fanout, id: i64) {
    let mut p = state.products.get(id).expect("catalog product").clone();
    (p.stock, p.version, p.updated_at) = ((p.stock + 1) % 500, p.version + 1, Utc::now());
    let seq = state.seq + 1;
    let data = json!({"stock": p.stock, "version": p.version, "updated_at": p.updated_at});
    let event =
        Event { seq, kind: EventKind::ProductUpdated, entity_id: Some(id), at: p.updated_at, by: "b".into(), data };
    let mut batch =
        CommittedBatch { store_id: 1, to: seq, events: vec![event], effects: vec![Effect::UpsertProduct(p)] };
    state.apply(&mut batch);
    fanout.push(batch.events);
    fanout.flush(state);
}

fn bench_reads(c: &mut Criterion) {
    let mut group = c.benchmark_group("read");
    for n in SIZES {
        let state = state(n);
        let searches = [("search_selective", "blue wool"), ("search_one_product", "lamp 12"), ("search_all", "-")];
        for (name, q) in searches {
            let view = View { q: Some(q.into()), ..View::default() };
            group.bench_function(format!("{name}/{n}"), |b| b.iter(|| state.page(&view)));
        }
        let view = View { sort: SortField::Revenue, dir: SortDir::Desc, ..View::default() };
        state.page(&view);
        group.bench_function(format!("by_revenue/{n}"), |b| b.iter(|| state.page(&view)));
        let view = View { sort: SortField::Name, page_size: 200, ..View::default() };
        state.page(&view);
        group.bench_function(format!("by_name_200_rows/{n}"), |b| b.iter(|| state.page(&view)));
    }
    group.finish();
}

fn bench_writes(c: &mut Criterion, sink: &Recipient<Evicted>) {
    let mut group = c.benchmark_group("write_flush");
    for n in SIZES {
        for views in [0, 1, 10] {
            let mut state = state(n);
            let mut fanout = Fanout::new(Arc::new(Metrics::new().store("s1")), None);
            fanout.flushed_seq = state.seq;
            // One plain subscriber always, plus one per filtered view.
            let all = std::iter::once(View::default()).chain(filtered_views().into_iter().take(views));
            let mut bodies = Vec::new();
            for (id, view) in (0..).zip(all) {
                bodies.push(subscribe(&mut fanout, &state, id, view, sink));
            }
            // The first flush computes each view's page; the timed ones follow it.
            write_and_flush(&mut state, &mut fanout, 1);
            let mut next = 0;
            group.bench_function(format!("{n}/{views}_views"), |b| {
                b.iter_batched(
                    || drain(&mut bodies),
                    |_| {
                        // Products spread over the whole catalogue.
                        next = (next + 7_919) % n;
                        write_and_flush(&mut state, &mut fanout, next + 1)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build_to_first_page");
    group.sample_size(10);
    for n in SIZES {
        let products = catalog(n);
        group.bench_function(format!("{n}"), |b| {
            b.iter_batched(
                || products.clone(),
                |products| {
                    let state = testkit::store_state(chrono_tz::UTC, products, 4096);
                    state.page(&View::default());
                    state
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn bench_reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    config.demo_password = Some("bench".into());
    let pool = storesync::prepare_database(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let target = Target { store_id: 2, tz: chrono_tz::Europe::Berlin, archived: false };
    let mut group = c.benchmark_group("reload");
    group.sample_size(10);
    let mut have = stores::load(&mut conn, 2).unwrap().products.len() as i64;
    for n in SIZES {
        while have < n {
            let rows = catalog(n)
                .into_iter()
                .skip(have as usize)
                .take(10_000)
                .map(|p| NewProduct { sku: p.sku, name: p.name, price: p.price, stock: p.stock, status: p.status })
                .collect::<Vec<_>>();
            have += rows.len() as i64;
            let import =
                PendingChange { by: "bench".into(), idempotency: None, change: Change::ImportProducts { rows } };
            commit_batch(&mut conn, target, &[import]).unwrap();
        }
        group.bench_function(format!("{n}"), |b| {
            b.iter(|| {
                let loaded = stores::load(&mut conn, 2).unwrap();
                let state = testkit::store_state(chrono_tz::UTC, loaded.products, 4096);
                state.page(&View::default());
                state
            })
        });
    }
    group.finish();
}

fn main() {
    report_memory();
    let system = System::new();
    let sink = system.block_on(async { EvictionSink.start().recipient() });
    let mut c = Criterion::default().configure_from_args();
    bench_reads(&mut c);
    bench_writes(&mut c, &sink);
    bench_build(&mut c);
    bench_reload(&mut c);
    c.final_summary();
}
