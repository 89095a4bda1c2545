//! API token secrets: generation, hashing and constant-time comparison.
//!
//! A token is 32 bytes from the operating system's CSPRNG (through `rand`'s thread RNG,
//! seeded from it), shown once as 64 lowercase hex digits. Only its SHA-256 is stored: at 256
//! bits of entropy a slow password hash adds nothing (STYLE.md "API tokens"). Lookups go by
//! the digest, an index probe on a value the caller cannot steer, and the digest found is
//! compared again with `subtle` in constant time so no comparison of secret-derived bytes
//! depends on where they first differ.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length in bytes of a token's random secret.
pub const SECRET_BYTES: usize = 32;

/// A new random secret, as 64 lowercase hex digits.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a secret: its SHA-256 digest.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.trim().as_bytes()).into()
}

/// Whether a secret is shaped like one entente issues (cheap rejection before any lookup).
pub fn well_formed(secret: &str) -> bool {
    let s = secret.trim();
    s.len() == SECRET_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_of_256_bits() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert_eq!(a.len(), 64);
        assert!(!well_formed("short"));
    }

    #[test]
    fn hash_and_compare() {
        let s = generate_secret();
        let h = hash_secret(&s);
        assert!(digests_equal(&h, &hash_secret(&s)));
        assert!(!digests_equal(&h, &hash_secret(&generate_secret())));
        assert!(!digests_equal(&h, &h[..31]));
    }
}
