//! The documentation book: every page of `docs/` is in the book, every
//! relative link of the pages and the README reaches a file and, with a
//! `#fragment`, a heading of it (mdBook has no link checker of its own), and
//! the server serves a built book at `/docs` under the book's own
//! Content-Security-Policy, or answers 404 while none is built.
//!
//! The guides describe only what exists: every `--flag` they give
//! storesync is one its `--help` (or a subcommand's) lists, and every route
//! they name (`GET /api/v1/…`, `$S/readyz`, `/admin`) is an operation of the
//! OpenAPI document with that method, or a page or file the server serves.
//! The guides' examples and drills (`docs/examples/`) are run by
//! `tests/docs_examples.rs`.

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

/// The pages of the book and the README.
fn guides() -> Vec<PathBuf> {
    let mut guides = pages();
    guides.push(root().join("README.md"));
    guides
}

/// Each prose line of a page (outside fences) with its inline code spans.
fn code_spans(markdown: &str) -> Vec<(String, Vec<String>)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((line.to_owned(), line.split('`').skip(1).step_by(2).map(str::to_owned).collect()));
        }
    }
    lines
}

/// The command lines of a page's fenced blocks, `\` continuations joined.
fn fenced_lines(markdown: &str) -> Vec<String> {
    let mut fenced = false;
    let mut lines = vec![String::new()];
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            let last = lines.last_mut().unwrap();
            match line.trim_end().strip_suffix('\\') {
                Some(continued) => last.push_str(continued),
                None => {
                    last.push_str(line);
                    lines.push(String::new());
                }
            }
        }
    }
    lines
}

/// Shell words with the quotes, brackets and commas of JSON or YAML forms
/// (`["storesync", "--addr", …]`) trimmed off.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().map(|w| w.trim_matches(|c| "\"'[](),".contains(c))).filter(|w| !w.is_empty()).collect()
}

/// The `--flags` given to storesync in a command line: of each command
/// that runs the binary (`storesync`, `./target/debug/storesync`,
/// `ExecStart=/usr/local/bin/storesync`, after `VAR=value`s, `sudo` or
/// `exec`), up to the end of that command. `journalctl -u storesync --since`
/// is journalctl's.
fn storesync_flags_in(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let (mut at_start, mut inside) = (true, false);
    for word in words(line) {
        if ["|", "||", "&&", ";", "&", "2>&1"].contains(&word) || word.starts_with(['>', '#']) || word.starts_with("2>")
        {
            (at_start, inside) = (true, false);
            continue;
        }
        if at_start {
            inside = word.rsplit(['=', '(', '/']).next() == Some("storesync");
            // Variables set for the command, and commands that run the next word.
            at_start =
                !inside && (word.contains('=') || ["sudo", "exec", "nice", "nohup", "time", "env"].contains(&word));
        } else if inside && word.starts_with("--") && word.len() > 2 {
            found.push(word.split('=').next().unwrap().trim_end_matches([';', ')']).to_owned());
        }
        if word.ends_with([';', ')']) {
            (at_start, inside) = (true, false);
        }
    }
    found
}

/// Programs whose flags a guide may name beside storesync's.
const OTHER_PROGRAMS: [&str; 19] = [
    "node",
    "npm",
    "cargo",
    "mdbook",
    "curl",
    "jq",
    "sqlite3",
    "psql",
    "pg_dump",
    "pg_restore",
    "redis-server",
    "redis-cli",
    "chromium",
    "firefox",
    "playwright",
    "schemathesis",
    "journalctl",
    "nginx",
    "importer",
];

/// Whether a prose line is about another program, so that its bare
/// `--flags` may be that program's: it names one of `OTHER_PROGRAMS` or a
/// script (`subscriber.mjs`), or shows another program's command line in a
/// span (`node --test x.js`).
fn other_program(line: &str, spans: &[String]) -> bool {
    let named = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(|word| OTHER_PROGRAMS.contains(&word.to_ascii_lowercase().as_str()));
    named
        || spans.iter().any(|span| {
            let words = words(span);
            words.first().is_some_and(|w| w.ends_with(".mjs") || w.ends_with(".js") || w.ends_with(".sh"))
                || words.len() > 1
                    && !words[0].starts_with('-')
                    && words[0].rsplit('/').next() != Some("storesync")
                    && words[1..].iter().any(|w| w.starts_with('-'))
        })
}

/// Every `--flag` the guides give storesync: in fenced command lines and
/// inline `storesync …` spans, and as inline spans of their own
/// (`--docs-dir`) on lines not about another program.
fn flags_in_guides() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for page in guides() {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut flags: Vec<String> = fenced_lines(&text).iter().flat_map(|l| storesync_flags_in(l)).collect();
        for (line, spans) in code_spans(&text) {
            let foreign = other_program(&line, &spans);
            for span in &spans {
                match words(span).first() {
                    Some(flag) if flag.starts_with("--") && flag.len() > 2 => {
                        if !foreign {
                            flags.push(flag.split('=').next().unwrap().to_owned());
                        }
                    }
                    _ => flags.extend(storesync_flags_in(span)),
                }
            }
        }
        found.extend(flags.into_iter().map(|f| (page.clone(), f)));
    }
    found
}

/// The flags `storesync --help` and each subcommand's `--help` list, and
/// the hidden test hooks (`--test-echo-route`) the binary also accepts.
fn binary_flags() -> HashSet<String> {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_storesync")).args(args).output().unwrap();
        assert!(out.status.success(), "storesync {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    };
    let main = help(&["--help"]);
    let commands = main.split("Commands:").nth(1).unwrap().split("\n\n").next().unwrap();
    let mut texts = vec![main.clone()];
    for command in commands.lines().filter_map(|l| l.split_whitespace().next()).filter(|c| *c != "help") {
        texts.push(help(&[command, "--help"]));
    }
    let mut flags: HashSet<String> = texts
        .iter()
        .flat_map(|t| t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect();
    use clap::CommandFactory;
    let cli = storesync::config::Cli::command();
    let hidden = cli.get_arguments().filter(|a| a.is_hide_set()).filter_map(|a| a.get_long());
    flags.extend(hidden.map(|long| format!("--{long}")));
    flags
}

#[test]
fn every_flag_the_guides_give_storesync_is_one_it_has() {
    let known = binary_flags();
    assert!(known.contains("--data-dir") && known.contains("--subscribers"), "help not parsed: {known:?}");
    let mentioned = flags_in_guides();
    let unknown: Vec<String> = mentioned
        .iter()
        .filter(|(_, flag)| !known.contains(flag))
        .map(|(page, flag)| format!("{}: {flag}", page.display()))
        .collect();
    assert!(unknown.is_empty(), "flags storesync --help does not list:\n{}", unknown.join("\n"));
    assert!(mentioned.len() > 100, "only {} flags found: the scanner is broken", mentioned.len());
}

#[test]
fn the_flag_scanner_finds_storesync_flags_and_leaves_other_programs_alone() {
    let line =
        "STORESYNC_LOG=debug ./target/debug/storesync --addr 127.0.0.1:0 --log-format=json 2>&1 | grep --color x";
    assert_eq!(storesync_flags_in(line), ["--addr", "--log-format"]);
    assert_eq!(storesync_flags_in("ExecStart=/usr/local/bin/storesync --no-seed"), ["--no-seed"]);
    assert!(storesync_flags_in("node --test x.js; cargo test --test docs -- --nocapture").is_empty());
    assert!(storesync_flags_in("journalctl -u storesync --since '-15 min'").is_empty());
    let commands = "X=$(storesync --version) && sudo storesync migrate --no-seed # not --this";
    assert_eq!(storesync_flags_in(commands), ["--version", "--no-seed"]);
    let page = "Run `storesync load --rate 0` with `--subscrbers`.\nNode needs `--x`.\nSee `cargo test -q` and `--y`.\n`a.mjs --z`\n";
    let lines = code_spans(page);
    assert_eq!(lines[0].1, ["storesync load --rate 0", "--subscrbers"]);
    assert!(!other_program(&lines[0].0, &lines[0].1));
    assert!((1..4).all(|i| other_program(&lines[i].0, &lines[i].1)));
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/// A route a guide names: the methods it says (none: any) and the path.
#[derive(Debug, PartialEq)]
struct Route {
    methods: Vec<String>,
    path: String,
}

/// The path at the start of `text`, up to what ends a URL in prose or
/// shell (`?query`, `#fragment`, quotes, brackets, punctuation).
fn path_at(text: &str) -> String {
    let end = text.find(|c: char| c.is_whitespace() || "?#\"'`),;|".contains(c)).unwrap_or(text.len());
    text[..end].trim_end_matches(['.', ':']).to_owned()
}

/// The routes a guide names: `METHOD /path` spans (`GET|POST /admin/users`,
/// paths under `/api/v1` may leave it out, as the README's table does),
/// `/api/v1/…` anywhere, and the paths of URLs of a local instance
/// (`$S/readyz`, `http://127.0.0.1:8080/admin`), with curl's `-X METHOD`.
fn routes_in(markdown: &str) -> Vec<Route> {
    let mut found = Vec::new();
    for (_, spans) in code_spans(markdown) {
        for span in spans {
            let words = words(&span);
            let Some((methods, rest)) = words.split_first() else { continue };
            let methods: Vec<String> = methods.split('|').map(str::to_owned).collect();
            if methods.iter().all(|m| METHODS.contains(&m.as_str())) && rest.first().is_some_and(|p| p.starts_with('/'))
            {
                found.push(Route { methods, path: path_at(rest[0]) });
            }
        }
    }
    let hosts = ["$S/", "${S}/", "$URL/", "${URL}/", "$STORESYNC_URL/", "127.0.0.1:", "localhost:"];
    for line in markdown.lines().chain(fenced_lines(markdown).iter().map(String::as_str)) {
        let method =
            line.split(" -X ").nth(1).map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned());
        let methods: Vec<String> = method.into_iter().filter(|m| METHODS.contains(&m.as_str())).collect();
        let mut paths: Vec<String> = line.match_indices("/api/v1/").map(|(at, _)| path_at(&line[at..])).collect();
        for (at, host) in hosts.iter().flat_map(|host| line.match_indices(host)) {
            // `$S/readyz`: the path starts at the slash; `127.0.0.1:8080/x`: after the port.
            let after = &line[at + host.len()..];
            let port = &after[..after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())];
            // Not a database's or broker's address (`postgres://u@127.0.0.1:5432/db`).
            let web = ["http://", "https://", "ws://", "wss://"].iter().any(|s| line[..at].ends_with(s));
            if (line[..at].ends_with(['@', '/']) && !web) || ["5432", "6379"].contains(&port) {
                continue;
            }
            let path = match host.ends_with(':') {
                true => path_at(&after[port.len()..]),
                false => path_at(&line[at + host.len() - 1..]),
            };
            if path.starts_with('/') && !path.starts_with("/api/v1/") {
                paths.push(path);
            }
        }
        found.extend(paths.into_iter().map(|path| Route { methods: methods.clone(), path }));
    }
    found
}

/// Whether a segment of a guide's path stands for a value: `{store}`,
/// `<id>`, `$ID`, `:id`, `*`.
fn placeholder(segment: &str) -> bool {
    segment.starts_with(['{', '<', '$', ':']) || segment == "*"
}

/// Whether the server has `route`: an operation of the OpenAPI document
/// (`paths`: template and methods), else a page or file it serves from
/// `static/`, or the book at `/docs`.
fn route_exists(route: &Route, paths: &[(String, Vec<String>)]) -> Result<(), String> {
    let path = match route.path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let matches = |template: &str, path: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter().zip(&p).all(|(t, p)| match t.starts_with('{') {
                true => !p.is_empty(),
                false => t == p && !placeholder(p),
            })
    };
    let candidates = [path.to_owned(), format!("/api/v1{path}")];
    let operation = paths.iter().find(|(template, _)| candidates.iter().any(|c| matches(template, c)));
    let methods: Vec<String> = match operation {
        Some((_, methods)) => methods.clone(),
        None => {
            let statics = root().join("static");
            let file = path.trim_start_matches('/');
            let served = path == "/"
                || path == "/docs"
                || path.starts_with("/docs/")
                || path == "/api/v1/openapi.json"
                || (!file.is_empty()
                    && (statics.join(file).is_file() || statics.join(format!("{file}.html")).is_file()));
            if !served {
                return Err(format!("{}: no such route", route.path));
            }
            vec!["GET".into(), "HEAD".into()]
        }
    };
    match route.methods.iter().find(|m| !methods.contains(m)) {
        Some(method) => Err(format!("{method} {}: the route answers {}", route.path, methods.join(", "))),
        None => Ok(()),
    }
}

/// The OpenAPI document's paths and their methods.
fn api_paths() -> Vec<(String, Vec<String>)> {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(storesync::http::openapi::ApiDoc::openapi()).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| (path.clone(), item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect()))
        .collect()
}

#[test]
fn every_route_the_guides_name_is_one_the_server_has() {
    let paths = api_paths();
    let mut checked = 0;
    let mut unknown = Vec::new();
    for page in guides() {
        for route in routes_in(&std::fs::read_to_string(&page).unwrap()) {
            checked += 1;
            if let Err(why) = route_exists(&route, &paths) {
                unknown.push(format!("{}: {why}", page.display()));
            }
        }
    }
    assert!(unknown.is_empty(), "routes the server does not have:\n{}", unknown.join("\n"));
    assert!(checked > 100, "only {checked} routes found: the scanner is broken");
}

#[test]
fn the_route_checker_knows_api_operations_pages_and_files() {
    let paths = api_paths();
    let route = |methods: &[&str], path: &str| Route {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        path: path.into(),
    };
    for ok in [
        route(&["PATCH"], "/api/v1/stores/s1/products/7"),
        route(&["GET", "POST"], "/admin/users"),
        route(&["DELETE"], "/admin/tokens/<id>"),
        route(&[], "/readyz"),
        route(&[], "/storefront"),
        route(&[], "/js/app.js"),
        route(&[], "/docs/"),
    ] {
        assert_eq!(route_exists(&ok, &paths), Ok(()));
    }
    assert!(route_exists(&route(&[], "/api/v1/stores/s1/nothing"), &paths).unwrap_err().contains("no such route"));
    assert!(route_exists(&route(&["DELETE"], "/healthz"), &paths).unwrap_err().contains("answers GET"));
    assert!(route_exists(&route(&[], "/no-such-page"), &paths).is_err());
    let found = routes_in(
        "Use `GET|POST /admin/users` and `PUT /x/{id}`, not localhost:5432/db.\n```sh\ncurl -X DELETE $S/api/v1/admin/tokens/4 \\\n  -H 'a: b'\ncurl -s http://127.0.0.1:8080/readyz?x\n```\n",
    );
    assert!(found.contains(&route(&["GET", "POST"], "/admin/users")), "{found:?}");
    assert!(found.contains(&route(&["PUT"], "/x/{id}")), "{found:?}");
    assert!(found.contains(&route(&["DELETE"], "/api/v1/admin/tokens/4")), "{found:?}");
    assert!(found.contains(&route(&[], "/readyz")), "{found:?}");
    assert!(!found.iter().any(|r| r.path == "/db"), "a database's address is no route: {found:?}");
}
