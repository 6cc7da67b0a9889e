//! Who the client is on the network: its address (login limits, sockets per
//! address) and the host it asked for (the CSRF origin check).
//!
//! `Forwarded`, `X-Forwarded-For`, `X-Forwarded-Host` and
//! `X-Forwarded-Proto` are honoured only on connections from an address in
//! `--trusted-proxies`: anyone can send them, and a forged
//! `X-Forwarded-Host` used to make a foreign `Origin` look like this
//! server's own. Without trusted proxies the client is the TCP peer and the
//! host is the `Host` header. Guarded by `tests/security.rs`
//! (`forged_forwarded_headers_neither_pass_the_origin_check_nor_change_the_client_address`).

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;

/// The reverse proxies whose forwarded headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    /// Trusts the proxies at `addrs`.
    pub fn new(addrs: &[IpAddr]) -> Self {
        Self(addrs.iter().map(|a| a.to_canonical()).collect())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }

    /// Whether the request came straight from a trusted proxy.
    fn via_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr().is_some_and(|peer| self.trusts(peer.ip()))
    }

    /// The client's address: the TCP peer, or, when that is a trusted
    /// proxy, the nearest address in the forwarded chain that is not one
    /// (the entries left of it were written by the client and prove
    /// nothing).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let mut client = req.peer_addr()?.ip().to_canonical();
        if !self.trusts(client) {
            return Some(client);
        }
        for hop in forwarded_for(req).into_iter().rev() {
            // An entry that is no address (`unknown`, an obfuscated name)
            // ends what can be known.
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        Some(client)
    }

    /// The host the client asked for: the `Host` header, or, behind a
    /// trusted proxy, the host it forwarded.
    pub fn host(&self, req: &HttpRequest) -> Option<String> {
        if self.via_proxy(req) {
            return Some(req.connection_info().host().to_owned());
        }
        let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
        // HTTP/2 carries the host in the URI's authority instead.
        host.map(str::to_owned).or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
    }
}

/// The `for` addresses of `Forwarded` (or, without it, `X-Forwarded-For`),
/// client first; `None` for an entry that is no address.
fn forwarded_for(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    let values = |name| req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value))
                })
            })
            .collect();
    }
    values(header::X_FORWARDED_FOR).iter().flat_map(|v| v.split(',')).map(parse_node).collect()
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let host = match node.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next()?,
        None => node.rsplit_once(':').map_or(node, |(host, _port)| host),
    };
    host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(format!("{peer}:5000").parse().unwrap());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_headers_from_strangers_are_ignored() {
        let none = TrustedProxies::default();
        let forged = request(
            "198.51.100.7",
            &[("x-forwarded-for", "10.0.0.1"), ("x-forwarded-host", "evil.example"), ("host", "shop.example")],
        );
        assert_eq!(none.client_ip(&forged), ip("198.51.100.7"));
        assert_eq!(none.host(&forged).as_deref(), Some("shop.example"));
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_client() {
        let proxies = TrustedProxies::new(&["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()]);
        // The client prepended a forged entry; the proxies appended the truth.
        let req = request(
            "10.0.0.3",
            &[
                ("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2"),
                ("x-forwarded-host", "shop.example"),
                ("host", "backend:8080"),
            ],
        );
        assert_eq!(proxies.client_ip(&req), ip("203.0.113.9"));
        assert_eq!(proxies.host(&req).as_deref(), Some("shop.example"));
        let rfc = request("10.0.0.2", &[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.3")]);
        assert_eq!(proxies.client_ip(&rfc), ip("2001:db8::1"));
        let unknown = request("10.0.0.2", &[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client_ip(&unknown), ip("10.0.0.2"));
        let v4_with_port = request("10.0.0.2", &[("x-forwarded-for", "203.0.113.9:1234")]);
        assert_eq!(proxies.client_ip(&v4_with_port), ip("203.0.113.9"));
    }
}
