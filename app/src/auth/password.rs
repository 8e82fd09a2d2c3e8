//! argon2id hashing, one-time passwords and the rule for new passwords.
//! Hashing is deliberately slow; callers run it on a blocking thread.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    #[error("The new password must be at least {MIN_LENGTH} characters long.")]
    TooShort,
    #[error("The new password is too long.")]
    TooLong,
    #[error("The new password must differ from the old one.")]
    Unchanged,
}

/// Checks a new password against the rule (length; not the old one).
pub fn check_new(old: &str, new: &str) -> Result<(), PasswordRule> {
    let chars = new.chars().count();
    if chars < MIN_LENGTH {
        return Err(PasswordRule::TooShort);
    }
    if chars > MAX_LENGTH {
        return Err(PasswordRule::TooLong);
    }
    if new == old {
        return Err(PasswordRule::Unchanged);
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// True when `password` matches `phc`. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the same time as a real check, for unknown accounts, so response
/// times do not reveal which e-mail addresses have accounts.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _ = verify(password, DUMMY.get_or_init(|| hash("no account has this password")));
}

/// 20 characters from an alphabet without look-alikes (about 100 bits).
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    // 256 % 55 != 0 gives a slight bias; at 20 characters it still leaves
    // far more guessing than an online attacker gets.
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// 32 random bytes, hex-encoded: session tokens, CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn new_passwords_follow_the_rule() {
        assert_eq!(check_new("old-password-1", "short"), Err(PasswordRule::TooShort));
        assert_eq!(check_new("same-password-1", "same-password-1"), Err(PasswordRule::Unchanged));
        assert_eq!(check_new("old", &"x".repeat(2000)), Err(PasswordRule::TooLong));
        assert_eq!(check_new("old", "a long enough passphrase"), Ok(()));
    }

    #[test]
    fn one_time_passwords_and_tokens_are_random() {
        let (a, b) = (one_time_password(), one_time_password());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
    }
}
