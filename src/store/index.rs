//! `ProductIndex`: a store's products and the indexes its reads walk, so a
//! page costs about the rows it returns, not the size of the store.
//!
//! - **Slots**: products live in a `Vec`, found by id through `by_id`
//!   (which is also the default order). Indexes hold 4-byte slots.
//! - **Sort indexes**: one ordered set per other column, built by the first
//!   page that sorts by it and kept up to date from then on; columns nobody
//!   sorts by cost nothing. A write touches only the sets whose key changed.
//! - **Postings**: the sorted slots of each trigram of the lower-cased name
//!   and SKU, and of each status, built by the first filtered read (a
//!   reload answers sooner). A filter's candidates are the slots of its
//!   rarest posting, each checked with the exact predicate (`q` is a
//!   case-insensitive substring of name or SKU: every trigram of the needle
//!   is a trigram of the text). Needles under 3 characters have no trigram
//!   and check every product (status postings still narrow them).
//! - **Change log**: the replaced version of each changed product, so a
//!   live view tells from the changed rows alone whether its page moved
//!   (`reshape`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::model::{Product, ProductId, ProductStatus, SortDir, SortField, View};

/// Changes the log keeps: at most this many, and no more than the store
/// has products (at least 64), as a small store's page is cheap to read
/// again. A view last computed further back is recomputed.
const LOG_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Int(i64),
    Text(Box<str>),
}

/// A product as the index holds it.
#[derive(Debug)]
struct Row {
    product: Product,
    /// Lower-cased name, then lower-cased SKU from `sku_at`: what `q`
    /// matches and text columns sort by, lower-cased once per write.
    lower: Box<str>,
    sku_at: usize,
}

impl Row {
    fn new(product: Product) -> Self {
        let mut lower = product.name.to_lowercase();
        let sku_at = lower.len();
        lower.push_str(&product.sku.to_lowercase());
        Self { product, lower: lower.into(), sku_at }
    }

    fn name(&self) -> &str {
        &self.lower[..self.sku_at]
    }

    fn sku(&self) -> &str {
        &self.lower[self.sku_at..]
    }

    fn int_key(&self, field: SortField) -> i64 {
        let p = &self.product;
        match field {
            SortField::Price => p.price,
            SortField::Stock => p.stock,
            // Statuses sort by their names: active, archived, draft.
            SortField::Status => match p.status {
                ProductStatus::Active => 0,
                ProductStatus::Archived => 1,
                ProductStatus::Draft => 2,
            },
            SortField::Views => p.views,
            SortField::UnitsSold => p.units_sold,
            SortField::Revenue => p.revenue,
            SortField::UpdatedAt => p.updated_at.timestamp_micros(),
            SortField::Id | SortField::Sku | SortField::Name => p.id,
        }
    }

    fn key(&self, field: SortField) -> SortKey {
        match field {
            SortField::Name => SortKey::Text(self.name().into()),
            SortField::Sku => SortKey::Text(self.sku().into()),
            _ => SortKey::Int(self.int_key(field)),
        }
    }

    /// Ascending order by a column, ties by id: the order of its sort index.
    fn cmp_by(&self, other: &Row, field: SortField) -> Ordering {
        let by = match field {
            SortField::Name => self.name().cmp(other.name()),
            SortField::Sku => self.sku().cmp(other.sku()),
            _ => self.int_key(field).cmp(&other.int_key(field)),
        };
        by.then(self.product.id.cmp(&other.product.id))
    }

    /// Whether it comes before `other` (or is it) in a view's order.
    fn at_or_before(&self, other: &Row, view: &View) -> bool {
        let order = self.cmp_by(other, view.sort);
        match view.dir {
            SortDir::Asc => order.is_le(),
            SortDir::Desc => order.is_ge(),
        }
    }

    /// The postings it is listed in: its trigrams and its status, sorted.
    fn terms(&self) -> Vec<Term> {
        let mut terms = vec![status_term(self.product.status)];
        trigrams(self.name(), &mut terms);
        trigrams(self.sku(), &mut terms);
        terms.sort_unstable();
        terms.dedup();
        terms
    }
}

/// Three characters packed in 63 bits, or a status above them.
type Term = u64;

fn status_term(status: ProductStatus) -> Term {
    u64::MAX - status as u64
}

fn trigrams(text: &str, out: &mut Vec<Term>) {
    let mut window = 0u64;
    for (i, c) in text.chars().enumerate() {
        window = ((window << 21) | c as u64) & ((1 << 63) - 1);
        if i >= 2 {
            out.push(window);
        }
    }
}

/// Terms are already distinct numbers: a multiply spreads them, where
/// SipHash would cost more than the rest of a lookup (millions at a build).
#[derive(Default)]
struct TermHasher(u64);

impl Hasher for TermHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.write_u64(*b as u64));
    }

    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

/// A view's filter, its needle lower-cased once, its ranges as sort keys.
struct Filter {
    status: Option<ProductStatus>,
    needle: Option<String>,
    /// (column, lowest key, highest key), inclusive: price range, stock
    /// below, updated since.
    ranges: Vec<(SortField, i64, i64)>,
    has_image: Option<bool>,
}

impl Filter {
    fn new(view: &View) -> Self {
        let needle = view.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
        let mut ranges = Vec::new();
        if view.price_min.is_some() || view.price_max.is_some() {
            ranges.push((SortField::Price, view.price_min.unwrap_or(i64::MIN), view.price_max.unwrap_or(i64::MAX)));
        }
        if let Some(below) = view.stock_below {
            ranges.push((SortField::Stock, i64::MIN, below.saturating_sub(1)));
        }
        if let Some(since) = view.updated_since {
            ranges.push((SortField::UpdatedAt, since.timestamp_micros(), i64::MAX));
        }
        Self { status: view.status, needle, ranges, has_image: view.has_image }
    }

    fn is_none(&self) -> bool {
        self.status.is_none() && self.needle.is_none() && self.ranges.is_empty() && self.has_image.is_none()
    }

    /// Whether the status is all it asks for.
    fn is_status_only(&self) -> bool {
        self.needle.is_none() && self.ranges.is_empty() && self.has_image.is_none()
    }

    fn matches(&self, row: &Row) -> bool {
        self.status.is_none_or(|s| row.product.status == s)
            && self.has_image.is_none_or(|has| row.product.image.is_some() == has)
            && self.ranges.iter().all(|&(field, low, high)| (low..=high).contains(&row.int_key(field)))
            && self.needle.as_deref().is_none_or(|n| row.name().contains(n) || row.sku().contains(n))
    }

    fn terms(&self) -> Vec<Term> {
        let mut terms: Vec<Term> = self.status.map(status_term).into_iter().collect();
        if let Some(needle) = &self.needle {
            trigrams(needle, &mut terms);
        }
        terms
    }
}

/// What a view's page showed, as of which change: enough to tell from the
/// changes since whether it moved (`ProductIndex::reshape`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageShape {
    pub total: usize,
    pub ids: Vec<ProductId>,
    generation: u64,
}

/// (key, id) in order, and the slot, so a walk reads rows without `by_id`.
type SortIndex = BTreeSet<(SortKey, ProductId, u32)>;
type Postings = HashMap<Term, Vec<u32>, BuildHasherDefault<TermHasher>>;

/// A store's products and their indexes.
#[derive(Debug, Default)]
pub struct ProductIndex {
    rows: Vec<Option<Row>>,
    free: Vec<u32>,
    by_id: BTreeMap<ProductId, u32>,
    postings: OnceLock<Postings>,
    /// By `SortField as usize`; `Id` is `by_id`'s order and stays unbuilt.
    sorted: [OnceLock<SortIndex>; SortField::ALL.len()],
    /// Changes are numbered from 1; `log` holds each one after
    /// `known_from` with the row it replaced (`None`: a new product).
    generation: u64,
    known_from: u64,
    log: VecDeque<(ProductId, Option<Row>)>,
}

impl ProductIndex {
    /// Builds the index; of products with the same id the last one counts.
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        let mut products: Vec<Product> = products.into_iter().collect();
        // Stable: of equal ids the last one stays last.
        products.sort_by_key(|p| p.id);
        let mut products = products.into_iter().peekable();
        let mut index = Self::default();
        while let Some(p) = products.next() {
            if products.peek().is_none_or(|next| next.id != p.id) {
                index.rows.push(Some(Row::new(p)));
            }
        }
        index.by_id = index.live().map(|(slot, row)| (row.product.id, slot)).collect();
        index
    }

    /// The postings, built on first use.
    fn postings(&self) -> &Postings {
        self.postings.get_or_init(|| {
            let mut postings = Postings::default();
            // Slots ascend, so each posting grows at its end, already sorted.
            for (slot, row) in self.live() {
                for term in row.terms() {
                    postings.entry(term).or_default().push(slot);
                }
            }
            postings.values_mut().for_each(Vec::shrink_to_fit);
            postings
        })
    }

    /// Takes a newer read of the store's products. Views computed before
    /// cannot be brought forward from the log: they are recomputed.
    pub fn replace(&mut self, products: impl IntoIterator<Item = Product>) {
        let generation = self.generation + 1;
        *self = Self::new(products);
        (self.generation, self.known_from) = (generation, generation);
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the store has no products.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn row(&self, slot: u32) -> &Row {
        self.rows[slot as usize].as_ref().expect("indexed slots hold a product")
    }

    fn row_of(&self, id: ProductId) -> Option<&Row> {
        self.by_id.get(&id).map(|slot| self.row(*slot))
    }

    /// Slots and rows, in slot order.
    fn live(&self) -> impl Iterator<Item = (u32, &Row)> {
        (0..).zip(&self.rows).filter_map(|(slot, row)| Some((slot, row.as_ref()?)))
    }

    /// A product by id.
    pub fn get(&self, id: ProductId) -> Option<&Product> {
        self.row_of(id).map(|r| &r.product)
    }

    /// All products by id.
    pub fn iter(&self) -> impl Iterator<Item = &Product> {
        self.by_id.values().map(|slot| &self.row(*slot).product)
    }

    /// Inserts or replaces a product.
    pub fn upsert(&mut self, p: Product) {
        let id = p.id;
        let row = Row::new(p);
        let slot = match self.by_id.get(&id) {
            Some(slot) => *slot,
            None => {
                let slot = self.free.pop().unwrap_or_else(|| {
                    self.rows.push(None);
                    self.rows.len() as u32 - 1
                });
                self.by_id.insert(id, slot);
                slot
            }
        };
        let old = self.rows[slot as usize].take();
        self.reindex(slot, old.as_ref(), Some(&row));
        self.rows[slot as usize] = Some(row);
        self.record(id, old);
    }

    /// Removes a product; returns it if it was there.
    pub fn remove(&mut self, id: ProductId) -> Option<Product> {
        let slot = self.by_id.remove(&id)?;
        let old = self.rows[slot as usize].take().expect("indexed slots hold a product");
        self.reindex(slot, Some(&old), None);
        self.free.push(slot);
        let product = old.product.clone();
        self.record(id, Some(old));
        Some(product)
    }

    /// Moves a slot's entries from its old row to its new one, touching
    /// only the postings and sort indexes whose key changed.
    fn reindex(&mut self, slot: u32, old: Option<&Row>, new: Option<&Row>) {
        // Most writes change figures, not the name, SKU or status.
        let same_terms =
            |(o, n): (&Row, &Row)| (&o.lower, o.sku_at, o.product.status) == (&n.lower, n.sku_at, n.product.status);
        let postings = self.postings.get_mut().filter(|_| !old.zip(new).is_some_and(same_terms));
        if let Some(postings) = postings {
            let (before, after) = (old.map(Row::terms).unwrap_or_default(), new.map(Row::terms).unwrap_or_default());
            for term in before.iter().filter(|t| after.binary_search(t).is_err()) {
                if let Some(list) = postings.get_mut(term) {
                    if let Ok(at) = list.binary_search(&slot) {
                        list.remove(at);
                    }
                    if list.is_empty() {
                        postings.remove(term);
                    }
                }
            }
            for term in after.iter().filter(|t| before.binary_search(t).is_err()) {
                let list = postings.entry(*term).or_default();
                if let Err(at) = list.binary_search(&slot) {
                    list.insert(at, slot);
                }
            }
        }
        for field in SortField::ALL {
            let Some(set) = self.sorted[field as usize].get_mut() else { continue };
            let entry = |r: &Row| (r.key(field), r.product.id, slot);
            let (was, is) = (old.map(entry), new.map(entry));
            if was != is {
                if let Some(key) = was {
                    set.remove(&key);
                }
                if let Some(key) = is {
                    set.insert(key);
                }
            }
        }
    }

    fn record(&mut self, id: ProductId, old: Option<Row>) {
        self.generation += 1;
        self.log.push_back((id, old));
        if self.log.len() > LOG_LEN.min(self.len().max(64)) {
            self.log.pop_front();
            self.known_from += 1;
        }
    }

    /// Each product changed after change `generation`, once, with its row
    /// as it was then; `None` when the log does not reach back that far.
    fn changes_since(&self, generation: u64) -> Option<Vec<(ProductId, Option<&Row>)>> {
        if generation < self.known_from || generation > self.generation {
            return None;
        }
        let start = self.log.len() - (self.generation - generation) as usize;
        let mut seen = HashSet::new();
        let changes = self.log.range(start..).filter(|(id, _)| seen.insert(*id));
        Some(changes.map(|(id, old)| (*id, old.as_ref())).collect())
    }

    /// A column's sort index, built on first use.
    fn sorted(&self, field: SortField) -> &SortIndex {
        self.sorted[field as usize]
            .get_or_init(|| self.live().map(|(slot, r)| (r.key(field), r.product.id, slot)).collect())
    }

    /// Every row in a view's order.
    fn ordered<'a>(&'a self, view: &View) -> Box<dyn Iterator<Item = &'a Row> + 'a> {
        let asc: Box<dyn DoubleEndedIterator<Item = u32>> = match view.sort {
            SortField::Id => Box::new(self.by_id.values().copied()),
            field => Box::new(self.sorted(field).iter().map(|(_, _, slot)| *slot)),
        };
        match view.dir {
            SortDir::Asc => Box::new(asc.map(|slot| self.row(slot))),
            SortDir::Desc => Box::new(asc.rev().map(|slot| self.row(slot))),
        }
    }

    /// The rows that may pass a filter (it decides), and how many: the
    /// slots of its rarest posting, or of its narrowest range in a sort
    /// index (counted no further than the best so far), else every row.
    fn candidates<'a>(&'a self, filter: &Filter) -> (usize, Box<dyn Iterator<Item = &'a Row> + 'a>) {
        let rarest = filter
            .terms()
            .iter()
            .map(|t| self.postings().get(t).map_or(&[][..], Vec::as_slice))
            .min_by_key(|list| list.len());
        let mut best: (usize, Box<dyn Iterator<Item = &'a Row> + 'a>) = match rarest {
            Some(list) => (list.len(), Box::new(list.iter().map(|slot| self.row(*slot)))),
            None => (self.len(), Box::new(self.live().map(|(_, r)| r))),
        };
        for &(field, low, high) in &filter.ranges {
            if low > high {
                return (0, Box::new(std::iter::empty()));
            }
            let range = self
                .sorted(field)
                .range((SortKey::Int(low), ProductId::MIN, 0)..=(SortKey::Int(high), ProductId::MAX, u32::MAX));
            let n = range.clone().take(best.0).count();
            if n < best.0 {
                best = (n, Box::new(range.map(|(_, _, slot)| self.row(*slot))));
            }
        }
        best
    }

    /// How many products pass a filter.
    fn count(&self, filter: &Filter) -> usize {
        if filter.is_none() {
            self.len()
        } else if filter.is_status_only() {
            // The status's posting lists exactly the passing rows.
            self.candidates(filter).0
        } else {
            self.candidates(filter).1.filter(|r| filter.matches(r)).count()
        }
    }

    /// The rows of a view's page, `total` being how many pass its filter:
    /// by walking the sorted index until the page is full, or by sorting
    /// the candidates that pass, whichever visits fewer rows.
    fn page_rows(&self, view: &View, filter: &Filter, total: usize) -> Vec<&Row> {
        let skip = (view.page - 1).saturating_mul(view.page_size);
        if skip >= total {
            return Vec::new();
        }
        let end = skip + view.page_size.min(total - skip);
        // The walk meets a passing row every len/total rows.
        let walk = (end as u128 * self.len() as u128).div_ceil(total as u128);
        let (candidates, rows) = self.candidates(filter);
        if walk <= candidates as u128 {
            return self.ordered(view).filter(|r| filter.matches(r)).skip(skip).take(end - skip).collect();
        }
        let order = |a: &&Row, b: &&Row| match view.dir {
            SortDir::Asc => a.cmp_by(b, view.sort),
            SortDir::Desc => b.cmp_by(a, view.sort),
        };
        let mut rows: Vec<&Row> = rows.filter(|r| filter.matches(r)).collect();
        if end < rows.len() {
            rows.select_nth_unstable_by(end, order);
            rows.truncate(end);
        }
        rows.sort_unstable_by(order);
        rows.drain(..skip);
        rows
    }

    /// The rows of a view's page and the number of matching products.
    pub fn page(&self, view: &View) -> (usize, Vec<Product>) {
        self.page_of(view, |r| r.product.clone())
    }

    /// The ids of a view's page and the number of matching products: a
    /// page without cloning its products (a bulk change's selection).
    pub fn page_ids(&self, view: &View) -> (usize, Vec<ProductId>) {
        self.page_of(view, |r| r.product.id)
    }

    fn page_of<T>(&self, view: &View, each: impl Fn(&Row) -> T) -> (usize, Vec<T>) {
        let filter = Filter::new(view);
        let total = self.count(&filter);
        (total, self.page_rows(view, &filter, total).into_iter().map(each).collect())
    }

    /// The shape of a page read now.
    pub fn shape(&self, total: usize, rows: &[Product]) -> PageShape {
        PageShape { total, ids: rows.iter().map(|p| p.id).collect(), generation: self.generation }
    }

    /// A view's page now, from what it was and the changes since: the
    /// total moves by the changed rows that entered or left the filter,
    /// and the rows are read again only when a changed row that passes
    /// (before or after) sits on the page or ahead of its last row, or the
    /// page is not full. Never a pass over the whole store, unless the log
    /// no longer reaches back to `before`.
    pub fn reshape(&self, view: &View, before: &PageShape) -> PageShape {
        let Some(changes) = self.changes_since(before.generation) else {
            let (total, rows) = self.page(view);
            return self.shape(total, &rows);
        };
        let filter = Filter::new(view);
        let last = before.ids.last().filter(|_| before.ids.len() == view.page_size).and_then(|id| self.row_of(*id));
        let mut total = before.total;
        let mut moved = false;
        for (id, old) in changes {
            let was = old.filter(|r| filter.matches(r));
            let is = self.row_of(id).filter(|r| filter.matches(r));
            total = (total + is.is_some() as usize).saturating_sub(was.is_some() as usize);
            // A changed `last` is on the page: the first test catches it.
            moved |= (was.is_some() || is.is_some())
                && (before.ids.contains(&id)
                    || last.is_none_or(|last| [was, is].into_iter().flatten().any(|r| r.at_or_before(last, view))));
        }
        let ids = if moved {
            self.page_rows(view, &filter, total).iter().map(|r| r.product.id).collect()
        } else {
            before.ids.clone()
        };
        PageShape { total, ids, generation: self.generation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn page_ids_are_the_ids_of_the_page() {
        let index = ProductIndex::new((1..=5).map(|i| product(i, &format!("n{i}"), 100 - i, ProductStatus::Active)));
        let view = View { sort: SortField::Price, page: 2, page_size: 2, ..View::default() };
        let (total, rows) = index.page(&view);
        assert_eq!(index.page_ids(&view), (total, ids(&rows)));
        assert_eq!(index.page_ids(&view), (5, vec![3, 2]));
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
    fn a_page_older_than_the_change_log_or_a_replace_is_read_again() {
        let mut index = ProductIndex::new((1..=10).map(|i| product(i, "x", i, ProductStatus::Active)));
        let view = View { sort: SortField::Price, dir: SortDir::Desc, page_size: 3, ..View::default() };
        let (total, rows) = index.page(&view);
        let shape = index.shape(total, &rows);
        // 100 changes: more than the log keeps for 10 products.
        for round in 1..=10 {
            (1..=10).for_each(|i| index.upsert(product(i, "x", i * round % 7, ProductStatus::Active)));
        }
        let fresh = |index: &ProductIndex| {
            let (total, rows) = index.page(&view);
            (total, ids(&rows))
        };
        let brought = index.reshape(&view, &shape);
        assert_eq!((brought.total, brought.ids), fresh(&index));
        // Even a memo of the current change (here with stale rows) is not
        // brought across a replace.
        let shape = index.shape(total, &rows);
        index.replace((1..=4).map(|i| product(i, "y", 100 - i, ProductStatus::Draft)));
        let brought = index.reshape(&view, &shape);
        assert_eq!((brought.total, brought.ids.clone()), (4, vec![1, 2, 3]));
        assert_eq!((brought.total, brought.ids), fresh(&index));
    }

    #[test]
    fn range_filters_take_their_candidates_from_the_narrowest_range() {
        let mut index = ProductIndex::new(
            (1..=20).map(|i| Product { stock: i % 5, ..product(i, "x", i * 10, ProductStatus::Active) }),
        );
        // Prices 50-120 are ids 5-12; of those, stock (id % 5) below 3.
        let view = View {
            price_min: Some(50),
            price_max: Some(120),
            stock_below: Some(3),
            sort: SortField::Price,
            ..View::default()
        };
        assert_eq!(ids(&index.page(&view).1), vec![5, 6, 7, 10, 11, 12]);
        assert_eq!(index.candidates(&Filter::new(&view)).0, 8, "the price range is narrower than the stock one");
        let crossed = View { price_min: Some(9), price_max: Some(1), ..View::default() };
        assert_eq!(index.page(&crossed), (0, vec![]));
        let mut p = index.get(3).unwrap().clone();
        p.image = Some("f00d".into());
        index.upsert(p);
        assert_eq!(ids(&index.page(&View { has_image: Some(true), ..View::default() }).1), vec![3]);
        assert_eq!(index.page(&View { has_image: Some(false), ..View::default() }).0, 19);
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
