//! The tokens in stakeholders' links: 256 random bits, shown once in the
//! mail, stored only as their SHA-256.

use std::fmt;

use crate::auth::{password::random_token, sessions::token_hash};

/// A link token as it travels in a URL: 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

/// What the database keeps of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(pub Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a link token")]
pub struct MalformedToken;

impl LinkToken {
    /// The same 256-bit hex tokens as sessions use.
    pub fn generate() -> Self {
        Self(random_token())
    }

    /// Only the exact shape we hand out gets as far as a database lookup.
    pub fn parse(s: &str) -> Result<Self, MalformedToken> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(token_hash(&self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tokens are credentials: never print one by accident.
impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_256_bit_hex_and_parse_back() {
        let a = LinkToken::generate();
        let b = LinkToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
        assert_eq!(LinkToken::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.hash().0.len(), 32);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn anything_else_is_refused_before_the_database() {
        let good = LinkToken::generate();
        for bad in ["", "abc", &good.as_str().to_uppercase(), &format!("{}0", good.as_str()), &"g".repeat(64)] {
            assert_eq!(LinkToken::parse(bad), Err(MalformedToken), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let t = LinkToken::generate();
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
