//! Which peers' `X-Forwarded-For` is believed (`EASEL_TRUSTED_PROXIES`),
//! and the client address it gives. Behind a load balancer the TCP peer is
//! the balancer, so the header is believed, but only when the peer is one
//! of these. From anyone else the header is whatever an attacker typed (for
//! instance to dodge the per-address throttle), so it is ignored. Plain
//! parsing, no HTTP framework: the settings build it, the web edge's
//! `ClientAddr` extractor asks it.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

/// Networks whose `X-Forwarded-For` is believed; empty by default. Shared,
/// since every request's extractor takes a copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(std::sync::Arc<[IpNet]>);

impl TrustedProxies {
    /// A comma-separated list of addresses (`10.0.0.5`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{s:?} is neither an address nor a network like 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| Self(nets.into()))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Walks `X-Forwarded-For` from the right (the hop nearest to us) while
    /// the hops are trusted proxies; the first one that is not is the
    /// client. A malformed entry stops the walk at the last trusted hop, as
    /// anything left of it may be forged.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { return client };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// `203.0.113.7`, `2001:db8::1`, or either with a port (`[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("198.51.100.9"), &xff(&["203.0.113.7"])), ip("198.51.100.9"));
    }

    #[test]
    fn an_untrusted_peer_cannot_claim_another_address() {
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(lb.client(ip("198.51.100.9"), &xff(&["203.0.113.7"])), ip("198.51.100.9"));
    }

    #[test]
    fn behind_a_trusted_balancer_the_nearest_untrusted_hop_is_the_client() {
        let lb = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        // The client prepended a forged entry; the balancer appended the real one.
        let h = xff(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(lb.client(ip("10.1.2.3"), &h), ip("203.0.113.7"));
        // Two trusted hops, and the header split over two lines.
        let h = xff(&["203.0.113.7", "192.0.2.1"]);
        assert_eq!(lb.client(ip("10.1.2.3"), &h), ip("203.0.113.7"));
    }

    #[test]
    fn garbage_or_missing_header_stops_at_the_last_trusted_hop() {
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(lb.client(ip("10.1.2.3"), &HeaderMap::new()), ip("10.1.2.3"));
        assert_eq!(lb.client(ip("10.1.2.3"), &xff(&["203.0.113.7, not-an-ip"])), ip("10.1.2.3"));
        assert_eq!(lb.client(ip("10.1.2.3"), &xff(&["[2001:db8::1]:443"])), ip("2001:db8::1"));
    }

    #[test]
    fn the_setting_names_a_bad_entry() {
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
        assert!(TrustedProxies::parse("10.0.0.0/8,bogus").unwrap_err().contains("\"bogus\""));
        assert!(TrustedProxies::parse("10.0.0.7").unwrap().trusts(ip("10.0.0.7")));
    }
}
