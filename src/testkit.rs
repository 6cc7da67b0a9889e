//! Fixtures shared by unit tests and benches: a product, a store's live
//! state, and an actor that takes evictions. Public because benches see only
//! the public API; the server itself never uses it.

use std::collections::BTreeMap;

use actix::{Actor, Context, Handler};
use chrono::Utc;
use chrono_tz::Tz;

use crate::db::queries::stores::LoadedStore;
use crate::model::{DashboardSettings, Product, ProductStatus, StoreInfo};
use crate::store::state::StoreState;
use crate::store::StoreMeta;
use crate::wire::outbox::Evicted;

/// An active product with id-derived SKU, name and price.
pub fn product(id: i64) -> Product {
    Product {
        id,
        sku: format!("SKU-{id}"),
        name: format!("Product {id}"),
        price: 1000 + id,
        stock: 10,
        status: ProductStatus::Active,
        image: None,
        views: 0,
        units_sold: 0,
        revenue: 0,
        version: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

/// The live state of store `s1` (id 1) in `tz` at seq 10, holding `products`
/// and a history ring of `history` events.
pub fn store_state(tz: Tz, products: Vec<Product>, history: usize) -> StoreState {
    let meta = StoreMeta {
        id: 1,
        info: StoreInfo {
            slug: "s1".into(),
            name: "Store 1".into(),
            currency: "USD".into(),
            time_zone: tz.name().into(),
            public: true,
            archived: false,
        },
        tz,
    };
    let info = meta.info.clone();
    let loaded = LoadedStore {
        seq: 10,
        info,
        products,
        settings: DashboardSettings::empty(),
        days: BTreeMap::new(),
        saved_views: Vec::new(),
    };
    StoreState::new(meta, loaded, history)
}

/// Takes the evictions outboxes report, and does nothing with them.
pub struct EvictionSink;

impl Actor for EvictionSink {
    type Context = Context<Self>;
}

impl Handler<Evicted> for EvictionSink {
    type Result = ();

    fn handle(&mut self, _: Evicted, _: &mut Context<Self>) {}
}
