//! The catalogue side of `storesync load`: `--grow-to` imports generated
//! products until each store holds that many (the scale scenarios at
//! 10,000 and 100,000 products), and `--views` gives subscribers distinct
//! filtered views of that catalogue instead of the plain page.

use serde_json::{json, Value};

use super::Target;
use crate::http::transfer::MAX_IMPORT_ROWS;

/// Words of generated names; the filtered views search for them.
const FIRST: [&str; 10] =
    ["Alpine", "Trail", "Summit", "Coastal", "Urban", "Classic", "Storm", "Merino", "Canyon", "Harbor"];
const SECOND: [&str; 10] =
    ["Jacket", "Boots", "Backpack", "Hoodie", "Beanie", "Gloves", "Tent", "Socks", "Parka", "Vest"];

/// Sorts the filtered views cycle through, as dashboards hold them.
const SORTS: [(&str, &str); 5] =
    [("revenue", "desc"), ("price", "asc"), ("name", "asc"), ("updated_at", "desc"), ("stock", "asc")];

/// The view subscriber `i` holds when `views` distinct filtered views are
/// spread over the subscribers (0: the plain first page by name).
pub fn view(views: usize, i: usize) -> Value {
    if views == 0 {
        return json!({"page_size": 10, "sort": "name"});
    }
    let k = i % views;
    let q = match k / FIRST.len() {
        0 => FIRST[k].to_lowercase(),
        n => format!("{} {}", FIRST[k % FIRST.len()], SECOND[(k + n) % SECOND.len()]).to_lowercase(),
    };
    let (sort, dir) = SORTS[k % SORTS.len()];
    let mut view = json!({"page_size": 25, "q": q, "sort": sort, "dir": dir});
    if k.is_multiple_of(2) {
        view["status"] = json!("active");
    }
    view
}

/// Generated product `n`: "Storm Parka 4711", mostly active.
fn row(n: usize) -> Value {
    let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
    let status = if h.is_multiple_of(10) { "draft" } else { "active" };
    json!({
        "sku": format!("GROW-{n:07}"),
        "name": format!("{} {} {n}", FIRST[(h % 10) as usize], SECOND[(h / 10 % 10) as usize]),
        "price": 100 + h % 100_000,
        "stock": h / 7 % 500,
        "status": status,
    })
}

impl Target {
    /// How many products a store holds.
    async fn product_count(&self, store: &str) -> Result<usize, String> {
        let url = format!("{}/api/v1/stores/{store}/products?page_size=1", self.urls[0]);
        let r = self.http.get(url).bearer_auth(&self.token).send().await.map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        body["total"].as_u64().map(|n| n as usize).ok_or(format!("cannot count the products of {store}: {body}"))
    }

    /// Imports generated products until the store holds `to`.
    pub(super) async fn grow(&self, store: &str, to: usize) -> Result<(), String> {
        let mut have = self.product_count(store).await?;
        while have < to {
            let rows: Vec<Value> = (have..to.min(have + MAX_IMPORT_ROWS)).map(row).collect();
            let url = format!("{}/api/v1/stores/{store}/products/import", self.urls[0]);
            let r = self.http.post(url).bearer_auth(&self.token).json(&rows).send().await.map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!(
                    "import into {store} failed: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ));
            }
            have += rows.len();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_views_are_distinct_and_valid() {
        let views: Vec<Value> = (0..10).map(|i| view(10, i)).collect();
        for (i, v) in views.iter().enumerate() {
            let parsed: crate::model::View = serde_json::from_value(v.clone()).unwrap();
            parsed.validate().unwrap();
            assert!(parsed.q.is_some(), "{v}");
            assert!(views[..i].iter().all(|w| w != v), "view {i} repeats: {v}");
        }
        assert_eq!(view(10, 13), view(10, 3));
        assert_eq!(view(0, 5), json!({"page_size": 10, "sort": "name"}));
    }
}
