//! `View::validate` accepts exactly the documented bounds, and a valid view
//! of any store pages exactly like a plain filter, sort and slice of its
//! products, also after products were added, changed and removed (the
//! index keeps one sorted set per column and must move rows in each).
//! Searches through the trigram postings find what a scan finds, and a
//! live page brought forward from the changed rows equals a fresh read.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use actix_web::ResponseError;
use proptest::prelude::*;
use storesync::model::{Product, ProductId, SortDir, SortField, View, MAX_PAGE_SIZE};
use storesync::testkit;

use super::{any_view, budget, epoch, status, valid_filters, valid_view};

/// A product with fields from small ranges, so sorts meet ties and
/// searches meet matches; ids repeat too (a later one replaces).
fn product() -> impl Strategy<Value = Product> {
    let figures = (0..5i64, 0..5i64, 0..3i64, 0..3i64, 0..5i64, 0..4i64);
    let image = prop::option::of(Just("f00d".to_owned()));
    (1..60 as ProductId, "[A-Ca-c0-2]{1,4}", "[a-cA-C ]{1,6}", status(), figures, image).prop_map(
        |(id, sku, name, status, (price, stock, views, units_sold, revenue, updated), image)| Product {
            sku,
            name,
            price,
            stock,
            status,
            views,
            units_sold,
            revenue,
            image,
            updated_at: epoch() + chrono::Duration::seconds(updated),
            ..testkit::product(id)
        },
    )
}

fn products() -> impl Strategy<Value = Vec<Product>> {
    prop::collection::vec(product(), 0..40)
}

/// A change to the store's products after it was loaded.
#[derive(Debug, Clone)]
enum Edit {
    Upsert(Product),
    Remove(ProductId),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        2 => product().prop_map(Edit::Upsert),
        1 => (1..60 as ProductId).prop_map(Edit::Remove),
    ];
    prop::collection::vec(edit, 0..20)
}

/// The order a column sorts in, ascending, ties broken by id.
fn ascending(a: &Product, b: &Product, field: SortField) -> Ordering {
    let by = match field {
        SortField::Id => Ordering::Equal,
        SortField::Sku => a.sku.to_lowercase().cmp(&b.sku.to_lowercase()),
        SortField::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        SortField::Price => a.price.cmp(&b.price),
        SortField::Stock => a.stock.cmp(&b.stock),
        SortField::Status => a.status.as_str().cmp(b.status.as_str()),
        SortField::Views => a.views.cmp(&b.views),
        SortField::UnitsSold => a.units_sold.cmp(&b.units_sold),
        SortField::Revenue => a.revenue.cmp(&b.revenue),
        SortField::UpdatedAt => a.updated_at.cmp(&b.updated_at),
    };
    by.then(a.id.cmp(&b.id))
}

fn in_order(a: &Product, b: &Product, view: &View) -> Ordering {
    match view.dir {
        SortDir::Asc => ascending(a, b, view.sort),
        SortDir::Desc => ascending(b, a, view.sort),
    }
}

/// The documented filter: status equal, `q` a case-insensitive substring
/// of name or SKU, price within its range (inclusive), stock below, updated
/// at or after, image present or absent.
fn passes(p: &Product, view: &View) -> bool {
    let q = view.q.as_deref().map(str::to_lowercase).unwrap_or_default();
    view.status.is_none_or(|s| p.status == s)
        && (p.name.to_lowercase().contains(&q) || p.sku.to_lowercase().contains(&q))
        && view.price_min.is_none_or(|min| p.price >= min)
        && view.price_max.is_none_or(|max| p.price <= max)
        && view.stock_below.is_none_or(|below| p.stock < below)
        && view.updated_since.is_none_or(|since| p.updated_at >= since)
        && view.has_image.is_none_or(|has| p.image.is_some() == has)
}

/// The view moved into the bounds `validate` accepts (mapped rather than
/// filtered: long campaigns would reject too many).
fn within_bounds(view: View) -> View {
    valid_filters(View {
        page: view.page % 1_000_000 + 1,
        page_size: view.page_size % MAX_PAGE_SIZE + 1,
        q: view.q.map(|q| q.chars().take(100).collect()),
        ..view
    })
}

proptest! {
    #![proptest_config(budget(256))]

    #[test]
    fn validation_accepts_exactly_the_documented_bounds(view in any_view()) {
        let valid = (1..=1_000_000).contains(&view.page)
            && (1..=MAX_PAGE_SIZE).contains(&view.page_size)
            && valid_filters(view.clone()) == view;
        match view.validate() {
            Ok(()) => prop_assert!(valid, "{view:?} accepted"),
            Err(e) => {
                prop_assert!(!valid, "{view:?} refused: {e}");
                prop_assert_eq!(e.code(), "invalid_field");
                prop_assert_eq!(e.status_code().as_u16(), 422);
            }
        }
    }

    #[test]
    fn a_valid_view_pages_like_filter_sort_and_slice(
        loaded in products(),
        edits in edits(),
        view in prop_oneof![valid_view(), any_view().prop_map(within_bounds)],
    ) {
        let mut state = testkit::store_state(chrono_tz::UTC, loaded.clone(), 16);
        let mut model: BTreeMap<ProductId, Product> = loaded.into_iter().map(|p| (p.id, p)).collect();
        for edit in edits {
            match edit {
                Edit::Upsert(p) => {
                    model.insert(p.id, p.clone());
                    state.products.upsert(p);
                }
                Edit::Remove(id) => {
                    prop_assert_eq!(state.products.remove(id).map(|p| p.id), model.remove(&id).map(|p| p.id));
                }
            }
        }
        prop_assert_eq!(state.products.len(), model.len());

        let page = state.page(&view);
        let mut expected: Vec<&Product> = model.values().filter(|p| passes(p, &view)).collect();
        expected.sort_by(|a, b| in_order(a, b, &view));
        prop_assert_eq!(page.total, expected.len(), "total counts the filter's matches");
        prop_assert_eq!(&page.view, &view);
        prop_assert_eq!(page.seq, state.seq);
        prop_assert!(page.rows.len() <= view.page_size);
        for pair in page.rows.windows(2) {
            prop_assert_eq!(in_order(&pair[0], &pair[1], &view), Ordering::Less, "rows follow sort and dir");
        }
        let skip = (view.page - 1).saturating_mul(view.page_size);
        let ids: Vec<ProductId> = page.rows.iter().map(|p| p.id).collect();
        let expected: Vec<ProductId> = expected.iter().skip(skip).take(view.page_size).map(|p| p.id).collect();
        prop_assert_eq!(ids, expected, "the page is the slice of the sorted matches");
        for row in &page.rows {
            prop_assert_eq!(Some(row), model.get(&row.id), "rows carry the current product");
        }
    }
}

/// A name or SKU from letters whose lower case differs in length or by
/// position (`İ` lower-cases to two characters, a final `Σ` to `ς`), so
/// the search index meets what `str::to_lowercase` really does.
fn text() -> impl Strategy<Value = String> {
    "[abAB İΣσßẞ日-]{1,8}"
}

/// A needle: any short text, or a piece of a generated text in another
/// case (what a user looking for a product types).
fn needle() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        (text(), 0usize..8, 1usize..6, any::<bool>()).prop_map(|(t, at, len, upper)| {
            let piece: String = t.chars().skip(at % t.chars().count()).take(len).collect();
            if upper {
                piece.to_uppercase()
            } else {
                piece
            }
        }),
    ]
}

fn searched_products() -> impl Strategy<Value = Vec<Product>> {
    let product = (1..60 as ProductId, text(), text(), status()).prop_map(|(id, sku, name, status)| Product {
        sku,
        name,
        status,
        ..testkit::product(id)
    });
    prop::collection::vec(product, 0..40)
}

proptest! {
    #![proptest_config(budget(256))]

    #[test]
    fn indexed_search_finds_what_a_scan_finds(
        loaded in searched_products(),
        changed in searched_products(),
        q in needle(),
        status in prop::option::of(status()),
    ) {
        let mut state = testkit::store_state(chrono_tz::UTC, loaded.clone(), 16);
        let mut model: BTreeMap<ProductId, Product> = loaded.into_iter().map(|p| (p.id, p)).collect();
        let view = View { q: Some(q), status, page_size: MAX_PAGE_SIZE, ..View::default() };
        // A first search builds the postings; the writes below maintain them.
        state.page(&view);
        // Renames move a product's postings; every third one is removed instead.
        for (i, p) in changed.into_iter().enumerate() {
            if i % 3 == 2 {
                state.products.remove(p.id);
                model.remove(&p.id);
            } else {
                model.insert(p.id, p.clone());
                state.products.upsert(p);
            }
        }
        let page = state.page(&view);
        let expected: Vec<ProductId> = model.values().filter(|p| passes(p, &view)).map(|p| p.id).collect();
        prop_assert_eq!(page.total, expected.len());
        prop_assert_eq!(page.rows.iter().map(|p| p.id).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_live_page_brought_forward_from_changes_equals_a_fresh_read(
        loaded in products(),
        rounds in prop::collection::vec(edits(), 1..5),
        view in valid_view(),
    ) {
        let mut state = testkit::store_state(chrono_tz::UTC, loaded, 16);
        let page = state.page(&view);
        let mut shape = state.products.shape(page.total, &page.rows);
        for edits in rounds {
            for edit in edits {
                match edit {
                    Edit::Upsert(p) => state.products.upsert(p),
                    Edit::Remove(id) => {
                        state.products.remove(id);
                    }
                }
            }
            shape = state.products.reshape(&view, &shape);
            let fresh = state.page(&view);
            prop_assert_eq!(shape.total, fresh.total, "total moved by the changed rows only");
            prop_assert_eq!(&shape.ids, &fresh.rows.iter().map(|p| p.id).collect::<Vec<_>>());
        }
    }
}
