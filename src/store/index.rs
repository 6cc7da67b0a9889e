//! `ProductIndex`: a store's products, kept sorted by every sortable column
//! so that a page of the product table is a walk over one ordered index,
//! not a sort per request.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Product, ProductId, SortDir, SortField, View};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Int(i64),
    Text(String),
}

fn sort_key(p: &Product, field: SortField) -> SortKey {
    match field {
        SortField::Id => SortKey::Int(p.id),
        SortField::Sku => SortKey::Text(p.sku.to_lowercase()),
        SortField::Name => SortKey::Text(p.name.to_lowercase()),
        SortField::Price => SortKey::Int(p.price),
        SortField::Stock => SortKey::Int(p.stock),
        SortField::Status => SortKey::Text(p.status.as_str().to_owned()),
        SortField::Views => SortKey::Int(p.views),
        SortField::UnitsSold => SortKey::Int(p.units_sold),
        SortField::Revenue => SortKey::Int(p.revenue),
        SortField::UpdatedAt => SortKey::Int(p.updated_at.timestamp_micros()),
    }
}

/// Products by id, plus one ordered index per sortable column (ties broken
/// by id).
#[derive(Debug, Default)]
pub struct ProductIndex {
    by_id: BTreeMap<ProductId, Product>,
    sorted: HashMap<SortField, BTreeSet<(SortKey, ProductId)>>,
}

/// Whether a product passes a view's filter.
pub fn matches(p: &Product, view: &View, needle: Option<&str>) -> bool {
    view.status.is_none_or(|s| p.status == s)
        && needle.is_none_or(|n| p.name.to_lowercase().contains(n) || p.sku.to_lowercase().contains(n))
}

impl ProductIndex {
    /// Builds the index.
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        let mut index = Self::default();
        for p in products {
            index.upsert(p);
        }
        index
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the store has no products.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// A product by id.
    pub fn get(&self, id: ProductId) -> Option<&Product> {
        self.by_id.get(&id)
    }

    /// All products by id.
    pub fn iter(&self) -> impl Iterator<Item = &Product> {
        self.by_id.values()
    }

    /// Inserts or replaces a product.
    pub fn upsert(&mut self, p: Product) {
        self.remove(p.id);
        for field in SortField::ALL.into_iter().filter(|f| *f != SortField::Id) {
            self.sorted.entry(field).or_default().insert((sort_key(&p, field), p.id));
        }
        self.by_id.insert(p.id, p);
    }

    /// Removes a product; returns it if it was there.
    pub fn remove(&mut self, id: ProductId) -> Option<Product> {
        let old = self.by_id.remove(&id)?;
        for (field, set) in &mut self.sorted {
            set.remove(&(sort_key(&old, *field), id));
        }
        Some(old)
    }

    fn ordered<'a>(&'a self, field: SortField, dir: SortDir) -> Box<dyn Iterator<Item = &'a Product> + 'a> {
        let asc: Box<dyn DoubleEndedIterator<Item = &Product>> = match (field, self.sorted.get(&field)) {
            (SortField::Id, _) | (_, None) => Box::new(self.by_id.values()),
            (_, Some(set)) => Box::new(set.iter().filter_map(|(_, id)| self.by_id.get(id))),
        };
        match dir {
            SortDir::Asc => asc,
            SortDir::Desc => Box::new(asc.rev()),
        }
    }

    /// The rows of a view's page and the number of matching products.
    pub fn page(&self, view: &View) -> (usize, Vec<Product>) {
        let needle = view.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
        let skip = (view.page - 1).saturating_mul(view.page_size);
        if view.status.is_none() && needle.is_none() {
            // Unfiltered: no need to walk past the page.
            let rows = self.ordered(view.sort, view.dir).skip(skip).take(view.page_size).cloned().collect();
            return (self.by_id.len(), rows);
        }
        let mut total = 0;
        let mut rows = Vec::with_capacity(view.page_size);
        for p in self.ordered(view.sort, view.dir) {
            if !matches(p, view, needle.as_deref()) {
                continue;
            }
            if total >= skip && rows.len() < view.page_size {
                rows.push(p.clone());
            }
            total += 1;
        }
        (total, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProductStatus;

    fn product(id: i64, name: &str, price: i64, status: ProductStatus) -> Product {
        Product { name: name.into(), price, status, ..crate::testkit::product(id) }
    }

    fn ids(rows: &[Product]) -> Vec<i64> {
        rows.iter().map(|p| p.id).collect()
    }

    #[test]
    fn pages_follow_sort_and_direction() {
        let index = ProductIndex::new((1..=5).map(|i| product(i, &format!("n{i}"), 100 - i, ProductStatus::Active)));
        let view = View { sort: SortField::Price, page_size: 2, ..View::default() };
        assert_eq!(ids(&index.page(&view).1), vec![5, 4]);
        let view = View { page: 3, ..view };
        assert_eq!(index.page(&view), (5, vec![index.get(1).unwrap().clone()]));
        let view = View { sort: SortField::Price, dir: SortDir::Desc, page_size: 2, ..View::default() };
        assert_eq!(ids(&index.page(&view).1), vec![1, 2]);
    }

    #[test]
    fn filters_count_only_matching_rows() {
        let index = ProductIndex::new(vec![
            product(1, "Red Shirt", 1, ProductStatus::Active),
            product(2, "Blue Shirt", 1, ProductStatus::Draft),
            product(3, "Red Hat", 1, ProductStatus::Active),
        ]);
        let view = View { q: Some("red".into()), ..View::default() };
        assert_eq!(ids(&index.page(&view).1), vec![1, 3]);
        let view = View { q: Some("shirt".into()), status: Some(ProductStatus::Draft), ..View::default() };
        assert_eq!(index.page(&view), (1, vec![index.get(2).unwrap().clone()]));
    }

    #[test]
    fn updates_move_a_product_in_every_index() {
        let mut index = ProductIndex::new((1..=3).map(|i| product(i, "x", i * 10, ProductStatus::Active)));
        let mut p = index.get(1).unwrap().clone();
        p.price = 99;
        index.upsert(p);
        let view = View { sort: SortField::Price, ..View::default() };
        assert_eq!(ids(&index.page(&view).1), vec![2, 3, 1]);
        index.remove(2);
        assert_eq!(ids(&index.page(&view).1), vec![3, 1]);
        assert_eq!(index.len(), 2);
    }
}
