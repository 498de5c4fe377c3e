//! Where a request comes from: the connection's peer address, or, when the
//! server sits behind a reverse proxy the operator trusts
//! (`[server] trust_forwarded_for = true`), the address that proxy put
//! last in `X-Forwarded-For`. Only the last entry: the ones before it are
//! whatever the client sent, and a client could name any address there.
//! The access audit records this address and the sign-in limiter counts
//! failures by it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// How the client's address is found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAddressing {
    /// Believe the last `X-Forwarded-For` entry (a trusted proxy in front).
    pub trust_forwarded_for: bool,
}

impl ClientAddressing {
    /// The client's address; `None` when the server was not given its
    /// connections' addresses (a router driven in-process by a test).
    pub fn of(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        self.from(peer, &parts.headers)
    }

    /// [`ClientAddressing::of`] from the peer address and the headers.
    pub fn from(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        if self.trust_forwarded_for
            && let Some(forwarded) = last_forwarded_for(headers)
        {
            return Some(forwarded);
        }
        peer
    }
}

/// The last address of the last `X-Forwarded-For` header, if it parses.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let header = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = header.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy_and_only_its_last_entry() {
        let peer: Option<IpAddr> = Some("10.0.0.5".parse().unwrap());
        let spoofed = headers(&["1.2.3.4, 203.0.113.9"]);
        let untrusted = ClientAddressing::default();
        assert_eq!(untrusted.from(peer, &spoofed), peer);
        let trusted = ClientAddressing {
            trust_forwarded_for: true,
        };
        assert_eq!(
            trusted.from(peer, &spoofed),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            trusted.from(peer, &headers(&["1.2.3.4", "198.51.100.7"])),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(trusted.from(peer, &headers(&["not an address"])), peer);
        assert_eq!(trusted.from(peer, &HeaderMap::new()), peer);
    }
}
