//! The client's address as the audit trail, the sessions and the sign-in
//! throttle should see it: the extractor handlers take. Which proxies'
//! `X-Forwarded-For` is believed is `proxies.rs`'s to say.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use http::request::Parts;

use crate::proxies::TrustedProxies;

/// The client's address, for handlers: `ClientAddr(ip)`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Any state that can lend its trusted proxies (the console's `AppState`
/// does), so this module needs nothing above it.
impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // The server is always built with connect info (startup.rs); the
        // unspecified address only appears in handler unit tests.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip());
        Ok(ClientAddr(TrustedProxies::from_ref(state).client(peer, &parts.headers)))
    }
}
