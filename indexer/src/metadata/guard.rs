//! The SSRF guard: metadata URIs are chosen by whoever mints, so no request may reach loopback,
//! private, link-local (cloud metadata at 169.254.169.254), shared, multicast or reserved
//! addresses, unless an address is explicitly allowed (tests serve hostile metadata from a
//! loopback server). Every hop is checked before it is requested ([`guard_outbound_url`]), and
//! the client resolves names through [`GuardedResolver`], which drops forbidden addresses at
//! connection time, so a name that re-resolves to an internal address (DNS rebinding) fails.

use super::FetchFailure;
use std::{
    collections::HashSet,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};
use url::{Host, Url};

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Exceptions to the rule "public unicast addresses only": exact address and port.
    pub allowed: Vec<SocketAddr>,
}

impl AddressPolicy {
    /// True when `addr` may be connected to.
    pub fn permits(&self, addr: &SocketAddr) -> bool {
        is_public(addr.ip()) || self.allowed.contains(addr)
    }

    fn permits_ip(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|a| a.ip() == ip)
    }
}

/// True for globally routable unicast addresses.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) embeds an IPv4 address.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, ::/96
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Checks `url` before it is requested: http(s) only, no credentials, and every address its
/// host resolves to permitted by `policy`. Returns the addresses checked.
pub async fn guard_outbound_url(
    url: &Url,
    policy: &AddressPolicy,
) -> Result<Vec<SocketAddr>, FetchFailure> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchFailure::UnsupportedScheme(url.scheme().to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchFailure::BlockedAddress(
            "credentials in the URL".to_string(),
        ));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchFailure::BadUri("no port".into()))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            if name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost") {
                return Err(FetchFailure::BlockedAddress(name.to_string()));
            }
            tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| FetchFailure::Dns(e.to_string()))?
                .collect()
        }
        None => return Err(FetchFailure::BadUri("no host".into())),
    };
    if addrs.is_empty() {
        return Err(FetchFailure::Dns("no address".into()));
    }
    if let Some(bad) = addrs.iter().find(|a| !policy.permits(a)) {
        return Err(FetchFailure::BlockedAddress(bad.to_string()));
    }
    Ok(addrs)
}

/// The HTTP client's resolver: the system's, minus every address the policy forbids.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    pub(crate) fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.permits_ip(a.ip()))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if found.is_empty() {
                return Err(format!("{host}: no permitted address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().expect("test value");
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in ["1.1.1.1", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(ip.parse().expect("test value")), "{ip} is public");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_before_any_request() {
        let policy = AddressPolicy::default();
        for (url, reason) in [
            (
                "http://169.254.169.254/latest/meta-data/",
                "blocked_address",
            ),
            ("http://127.0.0.1:8080/v1/ping", "blocked_address"),
            ("http://[::1]/", "blocked_address"),
            ("http://localhost/", "blocked_address"),
            ("http://user:pw@example.com/", "blocked_address"), // pragma: allowlist secret (a URL with credentials is refused)
            ("file:///etc/passwd", "unsupported_scheme"),
            ("gopher://example.com/", "unsupported_scheme"),
        ] {
            let url = Url::parse(url).expect("test value");
            let err = guard_outbound_url(&url, &policy)
                .await
                .expect_err("must fail");
            assert_eq!(err.reason(), reason, "{url}");
        }
        let allowed = AddressPolicy {
            allowed: vec!["127.0.0.1:9".parse().expect("test value")],
        };
        let ok = Url::parse("http://127.0.0.1:9/x").expect("test value");
        assert!(guard_outbound_url(&ok, &allowed).await.is_ok());
        let other_port = Url::parse("http://127.0.0.1:10/x").expect("test value");
        assert!(
            guard_outbound_url(&other_port, &allowed).await.is_err(),
            "an allowed address admits its own port only"
        );
    }
}
