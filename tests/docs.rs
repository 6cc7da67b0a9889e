//! The documentation book: every page of `docs/` is in the book, every
//! relative link of the pages and the README reaches a file and, with a
//! `#fragment`, a heading of it (mdBook has no link checker of its own), and
//! the server serves a built book at `/docs` under the book's own
//! Content-Security-Policy, or answers 404 while none is built.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown pages of `docs/` (the book's sources).
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// The lines of a page outside fenced code blocks, with inline code spans
/// dropped (links inside code are examples, not links) or, with
/// `keep_code`, only their backticks (headings keep the code's text in
/// their anchors).
fn prose(markdown: &str, keep_code: bool) -> Vec<String> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let spans: Vec<&str> = line.split('`').collect();
        let step = if keep_code { 1 } else { 2 };
        lines.push(spans.iter().step_by(step).copied().collect::<Vec<_>>().join(if keep_code { "" } else { " " }));
    }
    lines
}

/// The targets of the Markdown links and images in `markdown`: `](target)`.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(markdown, false) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            found.push(rest[..end].split_whitespace().next().unwrap_or_default().to_owned());
            rest = &rest[end..];
        }
    }
    found
}

/// The anchors mdBook (and GitHub) give a page's headings: the text
/// lowercased, spaces to `-`, other punctuation dropped; a repeated heading
/// gets `-1`, `-2`….
fn anchors(markdown: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in prose(markdown, true) {
        let Some(text) = line.strip_prefix('#').map(|t| t.trim_start_matches('#')) else { continue };
        // Link targets are not part of the heading's text.
        let text =
            text.split("](").map(|part| part.split_once(')').map_or(part, |(_, after)| after)).collect::<String>();
        let base: String = text
            .trim()
            .chars()
            .filter_map(|c| match c {
                c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
                c if c.is_whitespace() => Some('-'),
                _ => None,
            })
            .collect();
        let mut id = base.clone();
        let mut n = 0;
        while seen.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        seen.insert(id);
    }
    seen
}

/// Where a link from `page` leads, or why it is broken.
fn check_link(page: &Path, target: &str, inside: &Path) -> Result<(), String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return Ok(());
    }
    let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
    let file = if file.is_empty() { page.to_path_buf() } else { page.parent().unwrap().join(file) };
    let file = file.canonicalize().map_err(|_| format!("{target}: no such file"))?;
    if !file.starts_with(inside) {
        return Err(format!("{target}: outside {} (the book would not have it)", inside.display()));
    }
    if !fragment.is_empty() && file.extension().is_some_and(|e| e == "md") {
        let text = std::fs::read_to_string(&file).unwrap();
        if !anchors(&text).contains(fragment) {
            return Err(format!("{target}: {} has no heading #{fragment}", file.display()));
        }
    }
    Ok(())
}

#[test]
fn every_link_of_the_pages_and_the_readme_reaches_a_file_and_heading() {
    let docs = root().join("docs").canonicalize().unwrap();
    let mut checked = 0;
    let mut broken = Vec::new();
    let readme = (root().join("README.md"), root().canonicalize().unwrap());
    for (page, inside) in pages().into_iter().map(|p| (p, docs.clone())).chain([readme]) {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in links(&text) {
            checked += 1;
            if let Err(why) = check_link(&page, &target, &inside) {
                broken.push(format!("{}: {why}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 50, "only {checked} links found: the scanner is broken");
}

#[test]
fn every_page_of_docs_is_a_chapter_of_the_book() {
    let summary = std::fs::read_to_string(root().join("docs/SUMMARY.md")).unwrap();
    let chapters: HashSet<String> = links(&summary).into_iter().collect();
    let missing: Vec<String> = pages()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "SUMMARY.md" && !chapters.contains(name))
        .collect();
    assert!(missing.is_empty(), "pages missing from docs/SUMMARY.md: {missing:?}");
}

#[test]
fn the_link_checker_finds_a_broken_file_and_a_broken_heading() {
    let docs = root().join("docs").canonicalize().unwrap();
    let page = docs.join("introduction.md");
    assert!(check_link(&page, "user-guide.md", &docs).is_ok());
    assert!(check_link(&page, "deployment.md#one-node-on-sqlite", &docs).is_ok());
    assert!(check_link(&page, "no-such-page.md", &docs).unwrap_err().contains("no such file"));
    assert!(check_link(&page, "deployment.md#no-such-heading", &docs).unwrap_err().contains("no heading"));
    assert!(check_link(&page, "../README.md", &docs).unwrap_err().contains("outside"));
    let headings = anchors("# Moving a store from SQLite to PostgreSQL\n## `--docs-dir` and [mdBook](x)\n## A\n## A\n");
    for id in ["moving-a-store-from-sqlite-to-postgresql", "--docs-dir-and-mdbook", "a", "a-1"] {
        assert!(headings.contains(id), "{id} in {headings:?}");
    }
}

#[actix_web::test]
async fn the_server_serves_the_built_book_at_docs_under_its_own_policy() {
    let book = tempfile::tempdir().unwrap();
    std::fs::write(book.path().join("index.html"), "<h1>storesync</h1>").unwrap();
    std::fs::write(book.path().join("user-guide.html"), "<h1>User guide</h1>").unwrap();
    let app = common::spawn_app_with(|c| c.docs_dir = book.path().to_path_buf()).await;
    let client = app.anonymous();

    // `/docs` redirects to the index; chapters are files of the book.
    let index = client.get("/docs").await;
    index.assert_status(200);
    assert_eq!(index.text, "<h1>storesync</h1>");
    let chapter = client.get("/docs/user-guide.html").await;
    chapter.assert_status(200);
    assert!(chapter.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(chapter.header("content-security-policy"), Some(storesync::http::docs::CONTENT_SECURITY_POLICY));
    assert_eq!(chapter.header("x-frame-options"), Some("DENY"), "the other security headers stay");
    client.get("/docs/no-such-page.html").await.assert_status(404);

    // The pages keep their stricter policy.
    let admin = client.get("/admin").await;
    assert_eq!(admin.header("content-security-policy"), Some(storesync::http::headers::CONTENT_SECURITY_POLICY));
}

#[actix_web::test]
async fn docs_answer_404_while_no_book_is_built() {
    let missing = tempfile::tempdir().unwrap().path().join("book");
    let app = common::spawn_app_with(|c| c.docs_dir = missing.clone()).await;
    let client = app.anonymous();
    client.get("/docs").await.assert_status(404);
    client.get("/docs/index.html").await.assert_status(404);
    client.get("/admin").await.assert_status(200);
}
