//! Demo data, written on first start into an empty database: three stores
//! with different currencies and time zones (s1 with 1,200 products), 90
//! days of sales history, dashboard figures, and the users `admin` (all
//! stores), `editor` (s1) and `viewer` (s1, s2). The catalog is generated
//! from a fixed RNG seed, so every fresh database looks the same; only the
//! password is random unless `STORESYNC_DEMO_PASSWORD` sets it.
//!
//! For load tests, `storesync seed --stores N --products M` adds stores
//! `load-1` … `load-N` of M products each, generated the same way (90 days
//! of sales), administered by the demo `admin` (`seed_load_stores`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::models::{DailySalesRow, DashboardRow, ProductRow};
use super::queries::auth;
use super::schema::{daily_sales, dashboard, products, sales, stores};
use super::Conn;
use crate::auth::hash_password;
use crate::each_backend;
use crate::error::ApiError;
use diesel::connection::SimpleConnection;

struct DemoStore {
    slug: Cow<'static, str>,
    name: Cow<'static, str>,
    currency: &'static str,
    tz: &'static str,
    public: bool,
    products: usize,
    /// Typical price in minor units.
    price: i64,
    orders_per_day: (u32, u32),
    words: (&'static [&'static str], &'static [&'static str]),
}

const STORES: [DemoStore; 3] = [
    DemoStore {
        slug: Cow::Borrowed("s1"),
        name: Cow::Borrowed("Northwind Outfitters"),
        currency: "USD",
        tz: "America/New_York",
        public: true,
        products: 1200,
        price: 4_500,
        orders_per_day: (40, 90),
        words: (
            &["Alpine", "Trail", "Summit", "Coastal", "Urban", "Classic", "Storm", "Merino", "Canyon", "Harbor"],
            &["Jacket", "Boots", "Backpack", "Hoodie", "Beanie", "Gloves", "Tent", "Socks", "Parka", "Vest"],
        ),
    },
    DemoStore {
        slug: Cow::Borrowed("s2"),
        name: Cow::Borrowed("Rheinland Bücher"),
        currency: "EUR",
        tz: "Europe/Berlin",
        public: false,
        products: 240,
        price: 1_900,
        orders_per_day: (10, 30),
        words: (
            &["Kleine", "Große", "Stille", "Dunkle", "Helle", "Alte", "Neue"],
            &["Geschichte", "Reise", "Stadt", "Welt", "Nacht", "Küche", "Karte"],
        ),
    },
    DemoStore {
        slug: Cow::Borrowed("s3"),
        name: Cow::Borrowed("Kyoto Tea House"),
        currency: "JPY",
        tz: "Asia/Tokyo",
        public: false,
        products: 120,
        price: 1_800,
        orders_per_day: (5, 20),
        words: (
            &["Uji", "Shizuoka", "Kagoshima", "Yame", "Sayama", "Nara"],
            &["Sencha", "Matcha", "Hojicha", "Genmaicha", "Gyokuro", "Bancha"],
        ),
    },
];

/// A demo user: name, whether it administers users, grants as (slug, role).
type DemoUser = (&'static str, bool, &'static [(&'static str, &'static str)]);

/// The demo users and their grants.
const USERS: [DemoUser; 3] = [
    ("admin", true, &[("s1", "admin"), ("s2", "admin"), ("s3", "admin")]),
    ("editor", false, &[("s1", "editor")]),
    ("viewer", false, &[("s1", "viewer"), ("s2", "viewer")]),
];

/// What seeding did.
pub enum Seeded {
    /// The database already had stores.
    AlreadySeeded,
    /// Demo data written; the password, when it was generated here.
    Created { generated_password: Option<String> },
}

/// A random password for the demo users.
fn random_password() -> String {
    use rand::distributions::Alphanumeric;
    rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

/// Seeds the demo data if the database has no stores.
pub fn seed_if_empty(conn: &mut Conn, password: Option<&str>) -> Result<Seeded, ApiError> {
    let count: i64 = stores::table.count().get_result(conn)?;
    if count > 0 {
        if let Some(password) = password {
            reset_demo_passwords(conn, password)?;
        }
        return Ok(Seeded::AlreadySeeded);
    }
    let generated = password.is_none().then(random_password);
    let password = password.map(str::to_owned).or_else(|| generated.clone()).unwrap_or_default();
    let hash = hash_password(&password)?;
    super::write_transaction(conn, |conn| {
        let mut rng = StdRng::seed_from_u64(20261125);
        let mut ids = BTreeMap::new();
        for (i, store) in STORES.iter().enumerate() {
            let store_id = i as i64 + 1;
            seed_store(conn, &mut rng, store_id, store)?;
            ids.insert(store.slug.as_ref(), store_id);
        }
        for (name, is_admin, grants) in USERS {
            let user_id = auth::create_user(conn, name, &hash, is_admin)?;
            for (slug, role) in grants {
                auth::grant(conn, user_id, ids[slug], role)?;
            }
        }
        advance_id_sequences(conn)?;
        Ok::<_, ApiError>(())
    })?;
    Ok(Seeded::Created { generated_password: generated })
}

/// The words of load-test stores' product names.
const LOAD_WORDS: (&[&str], &[&str]) =
    (&["Basic", "Sturdy", "Light", "Heavy", "Smart", "Eco"], &["Widget", "Gadget", "Part", "Kit", "Tool", "Cable"]);

/// Most products a load-test store holds: product ids are the store id
/// times 100,000 plus the product's number.
pub const MAX_LOAD_PRODUCTS: u32 = 100_000;

/// Adds the load-test stores `load-1` … `load-{stores}` with `products`
/// products each (at most `MAX_LOAD_PRODUCTS`), USD in UTC, administered
/// by the demo user `admin` when there is one. Stores that exist already
/// are left alone; answers how many were added.
pub fn seed_load_stores(conn: &mut Conn, stores: usize, products: u32) -> Result<usize, ApiError> {
    let products = products.min(MAX_LOAD_PRODUCTS) as usize;
    super::write_transaction(conn, |conn| {
        let mut rng = StdRng::seed_from_u64(20261129);
        let admin = auth::user_by_name(conn, "admin")?;
        let mut next_id =
            stores::table.select(diesel::dsl::max(stores::id)).first::<Option<i64>>(conn)?.unwrap_or(0) + 1;
        let mut added = 0;
        for n in 1..=stores {
            let slug = format!("load-{n}");
            let taken: i64 = stores::table.filter(stores::slug.eq(&slug)).count().get_result(conn)?;
            if taken > 0 {
                continue;
            }
            let store = DemoStore {
                name: Cow::Owned(format!("Load test store {n}")),
                slug: Cow::Owned(slug),
                currency: "USD",
                tz: "UTC",
                public: false,
                products,
                price: 2_000,
                orders_per_day: (5, 15),
                words: LOAD_WORDS,
            };
            seed_store(conn, &mut rng, next_id, &store)?;
            if let Some(admin) = &admin {
                auth::grant(conn, admin.id, next_id, "admin")?;
            }
            next_id += 1;
            added += 1;
        }
        advance_id_sequences(conn)?;
        Ok(added)
    })
}

/// Rows written with their own ids (the demo data, a `migrate-to` copy):
/// PostgreSQL's id sequences must move past them before anything else
/// inserts (SQLite's rowids follow the largest id by themselves). An empty
/// table leaves its sequence alone (`setval` of NULL does nothing).
pub(super) fn advance_id_sequences(conn: &mut Conn) -> QueryResult<()> {
    let Conn::Pg(pg) = conn else { return Ok(()) };
    for table in ["stores", "users", "api_tokens", "products", "sales", "feedback", "audit_log", "scheduled_changes"] {
        pg.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        ))?;
    }
    Ok(())
}

/// Makes `STORESYNC_DEMO_PASSWORD` the demo users' password on later starts,
/// ending the sessions of each user whose password changed, as an admin's
/// reset does.
fn reset_demo_passwords(conn: &mut Conn, password: &str) -> Result<(), ApiError> {
    let mut hash = None;
    for (name, _, _) in USERS {
        let Some(user) = auth::user_by_name(conn, name)? else {
            continue;
        };
        if !crate::auth::verify_password(password, &user.password_hash) {
            if hash.is_none() {
                hash = Some(hash_password(password)?);
            }
            auth::set_password(conn, user.id, hash.as_deref().unwrap_or_default())?;
        }
    }
    Ok(())
}

fn seed_store(conn: &mut Conn, rng: &mut StdRng, store_id: i64, store: &DemoStore) -> Result<(), ApiError> {
    let now = Utc::now();
    let tz: Tz = store.tz.parse().map_err(|_| ApiError::Internal(format!("bad demo tz {}", store.tz)))?;
    insert_store(conn, store_id, store, now)?;
    let mut catalog = demo_catalog(rng, store_id, store, now);
    let (days, sold) = demo_sales(rng, tz, store_id, store, &mut catalog, now);
    for chunk in catalog.chunks(500) {
        let insert = diesel::insert_into(products::table).values(chunk);
        each_backend!(conn, |c| insert.execute(c))?;
    }
    let sale_rows: Vec<_> = sold
        .iter()
        .map(|sale| {
            (
                sales::store_id.eq(store_id),
                sales::amount.eq(sale.amount),
                sales::lines.eq(&sale.lines),
                sales::at.eq(sale.at),
                sales::recorded_by.eq("seed"),
            )
        })
        .collect();
    for chunk in sale_rows.chunks(500) {
        let insert = diesel::insert_into(sales::table).values(chunk);
        each_backend!(conn, |c| insert.execute(c))?;
    }
    let insert = diesel::insert_into(daily_sales::table).values(&days);
    each_backend!(conn, |c| insert.execute(c))?;
    diesel::insert_into(dashboard::table).values(&demo_dashboard(rng, store_id, store, now)).execute(conn)?;
    Ok(())
}

fn insert_store(conn: &mut Conn, store_id: i64, store: &DemoStore, now: DateTime<Utc>) -> Result<(), ApiError> {
    diesel::insert_into(stores::table)
        .values((
            stores::id.eq(store_id),
            stores::slug.eq(store.slug.as_ref()),
            stores::name.eq(store.name.as_ref()),
            stores::currency.eq(store.currency),
            stores::time_zone.eq(store.tz),
            stores::public.eq(store.public),
            stores::seq.eq(0),
            stores::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Products with random names, prices, stock and status (one in ten draft,
/// one in ten archived); sales fill in their figures.
fn demo_catalog(rng: &mut StdRng, store_id: i64, store: &DemoStore, now: DateTime<Utc>) -> Vec<ProductRow> {
    let first_id = store_id * 100_000;
    let (adjectives, nouns) = store.words;
    (0..store.products)
        .map(|n| {
            let name = format!(
                "{} {} {}",
                adjectives[rng.gen_range(0..adjectives.len())],
                nouns[rng.gen_range(0..nouns.len())],
                n + 1
            );
            let status = match rng.gen_range(0..10) {
                0 => "draft",
                1 => "archived",
                _ => "active",
            };
            ProductRow {
                id: first_id + n as i64,
                store_id,
                sku: format!("{}-{:05}", store.slug.to_uppercase(), n + 1),
                name,
                price: (store.price as f64 * rng.gen_range(0.3..3.0)) as i64 / 10 * 10,
                stock: rng.gen_range(0..500),
                status: status.to_owned(),
                image: None,
                views: rng.gen_range(50..5_000),
                units_sold: 0,
                revenue: 0,
                version: 1,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            }
        })
        .collect()
}

/// A demo order, as the `sales` table stores it.
struct DemoSale {
    amount: i64,
    lines: String,
    at: NaiveDateTime,
}

/// 90 days of orders up to now, in the store's time zone; adds each line
/// to its product's figures. Answers the daily totals and the orders.
fn demo_sales(
    rng: &mut StdRng,
    tz: Tz,
    store_id: i64,
    store: &DemoStore,
    catalog: &mut [ProductRow],
    now: DateTime<Utc>,
) -> (Vec<DailySalesRow>, Vec<DemoSale>) {
    let today = now.with_timezone(&tz).date_naive();
    let mut days: Vec<DailySalesRow> = Vec::with_capacity(90);
    let mut sold = Vec::new();
    for back in (0..90).rev() {
        let day: NaiveDate = today - Duration::days(back);
        let mut point = DailySalesRow { store_id, day: day.to_string(), orders: 0, units: 0, revenue: 0 };
        let orders = rng.gen_range(store.orders_per_day.0..=store.orders_per_day.1);
        for _ in 0..orders {
            let seconds = rng.gen_range(0..86_400);
            let local = day.and_time(NaiveTime::MIN) + Duration::seconds(seconds);
            let Some(at) = tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)) else {
                continue;
            };
            // Today only has the orders of the hours already past.
            if at > now {
                continue;
            }
            let mut lines = Vec::new();
            let mut amount = 0;
            for _ in 0..rng.gen_range(1..=3) {
                let product = &mut catalog[rng.gen_range(0..store.products)];
                let quantity = rng.gen_range(1..=3);
                product.units_sold += quantity;
                product.revenue += quantity * product.price;
                amount += quantity * product.price;
                point.units += quantity;
                lines.push(
                    serde_json::json!({"product_id": product.id, "quantity": quantity, "unit_price": product.price}),
                );
            }
            point.orders += 1;
            point.revenue += amount;
            sold.push(DemoSale { amount, lines: serde_json::Value::from(lines).to_string(), at: at.naive_utc() });
        }
        days.push(point);
    }
    (days, sold)
}

/// Hand-set dashboard figures in proportion to the store's size.
fn demo_dashboard(rng: &mut StdRng, store_id: i64, store: &DemoStore, now: DateTime<Utc>) -> DashboardRow {
    DashboardRow {
        store_id,
        visitors_today: i64::from(store.orders_per_day.1) * rng.gen_range(20..40),
        refunds_today: store.price * rng.gen_range(0..3),
        revenue_target: store.price * i64::from(store.orders_per_day.1) * 2,
        notice: String::new(),
        version: 1,
        updated_at: now.naive_utc(),
    }
}
