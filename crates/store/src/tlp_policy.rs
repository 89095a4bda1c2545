//! The access and TLP 2.0 policy of DESIGN.md "Access", as pure functions.
//!
//! **Why here.** The store computes [`Access`] for [`Store::access`](crate::Store::access)
//! and refuses disallowed objects in [`Store::add_objects`](crate::Store::add_objects)
//! (defence in depth); the server calls the same functions. Keeping the policy pure (no
//! I/O) makes it one table that both sides share and that the tests below pin.
//!
//! **The rules** (FIRST TLP 2.0, `shared/notes/standards.md` §1, mapped to entente's
//! notions of person, organization, community and public):
//!
//! | level | may be stored in | who may read it there |
//! | --- | --- | --- |
//! | CLEAR | any collection | every reader of the collection, also anonymous ones of a public-read collection |
//! | GREEN | not public-read | members of organizations granted read (the community) |
//! | AMBER, AMBER+STRICT | not public-read (readers are named organizations) | members of organizations granted read |
//! | RED | restricted collections only | users granted read individually |
//!
//! Read and write on a **restricted** collection come only from user grants; organization
//! grants and the admin flag do not apply there, because TLP:RED's audience is named
//! people. The **admin flag** never widens reading or writing: administering a server
//! does not put one in the audience of what others share.

use crate::types::{Access, CollectionFlags, Grant, Principal};
use stix::TlpLevel;

/// Whether an object marked `level` may be stored in a collection with these flags.
pub fn allowed_in_collection(level: TlpLevel, flags: CollectionFlags) -> bool {
    match level {
        TlpLevel::Clear => true,
        // TLP:GREEN: "not via publicly accessible channels".
        TlpLevel::Green => !flags.public_read,
        // TLP:AMBER(+STRICT): limited to named recipient organizations.
        TlpLevel::Amber | TlpLevel::AmberStrict => !flags.public_read,
        // TLP:RED: named individuals only.
        TlpLevel::Red => flags.restricted && !flags.public_read,
    }
}

/// The one-line reason an object of `level` is refused in a collection with `flags`, or
/// `None` when it is allowed. Used for the status resource's failure `message`.
pub fn refusal_reason(level: TlpLevel, flags: CollectionFlags) -> Option<String> {
    if allowed_in_collection(level, flags) {
        return None;
    }
    Some(match level {
        TlpLevel::Red => format!(
            "{} objects are accepted only in restricted collections whose readers are named individually",
            level.label()
        ),
        _ => format!(
            "{} objects are not accepted in a public-read collection",
            level.label()
        ),
    })
}

/// What `principal` (or an anonymous caller, `None`) may do with a collection, given its
/// flags, the grant of the principal's organization and the principal's own user grant
/// (pass [`Grant::NONE`] where there is none).
pub fn access(
    principal: Option<&Principal>,
    flags: CollectionFlags,
    org_grant: Grant,
    user_grant: Grant,
) -> Access {
    let public = Access {
        read: flags.public_read,
        write: false,
        max_tlp: TlpLevel::Clear,
    };
    if principal.is_none() {
        return public;
    }
    let granted = if flags.restricted {
        user_grant
    } else {
        org_grant
    };
    if !granted.read && !granted.write {
        return public;
    }
    let max_tlp = if !granted.read {
        TlpLevel::Clear
    } else if flags.restricted {
        TlpLevel::Red
    } else {
        // Named organizations: the audience of GREEN, AMBER and AMBER+STRICT.
        TlpLevel::AmberStrict
    };
    Access {
        read: granted.read || flags.public_read,
        write: granted.write,
        max_tlp,
    }
}

/// Whether an object marked `level` in a collection may be returned to a reader with
/// `access`.
pub fn visible_to(level: TlpLevel, access: Access) -> bool {
    access.read && level <= access.max_tlp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            user_id: 1,
            user_name: "alice".into(),
            org_id: 1,
            org_name: "acme".into(),
            admin: false,
        }
    }

    const PUBLIC: CollectionFlags = CollectionFlags {
        public_read: true,
        restricted: false,
    };
    const ORGS: CollectionFlags = CollectionFlags {
        public_read: false,
        restricted: false,
    };
    const RESTRICTED: CollectionFlags = CollectionFlags {
        public_read: false,
        restricted: true,
    };

    #[test]
    fn storage_table() {
        use TlpLevel::*;
        // (level, public, orgs, restricted)
        let table = [
            (Clear, true, true, true),
            (Green, false, true, true),
            (Amber, false, true, true),
            (AmberStrict, false, true, true),
            (Red, false, false, true),
        ];
        for (level, public, orgs, restricted) in table {
            assert_eq!(
                allowed_in_collection(level, PUBLIC),
                public,
                "{level} public"
            );
            assert_eq!(allowed_in_collection(level, ORGS), orgs, "{level} orgs");
            assert_eq!(
                allowed_in_collection(level, RESTRICTED),
                restricted,
                "{level} restricted"
            );
            assert_eq!(refusal_reason(level, PUBLIC).is_none(), public);
        }
    }

    #[test]
    fn anonymous_reads_only_public_clear() {
        let a = access(None, PUBLIC, Grant::READ_WRITE, Grant::READ_WRITE);
        assert_eq!(
            a,
            Access {
                read: true,
                write: false,
                max_tlp: TlpLevel::Clear
            }
        );
        assert_eq!(access(None, ORGS, Grant::READ, Grant::NONE), Access::NONE);
        assert!(visible_to(TlpLevel::Clear, a));
        assert!(!visible_to(TlpLevel::Green, a));
    }

    #[test]
    fn org_grants() {
        let p = principal();
        let r = access(Some(&p), ORGS, Grant::READ, Grant::NONE);
        assert_eq!(
            r,
            Access {
                read: true,
                write: false,
                max_tlp: TlpLevel::AmberStrict
            }
        );
        assert!(visible_to(TlpLevel::AmberStrict, r));
        assert!(!visible_to(TlpLevel::Red, r));
        let w = access(Some(&p), ORGS, Grant::WRITE, Grant::NONE);
        assert!(w.write && !w.read && w.any());
        assert!(!visible_to(TlpLevel::Clear, w));
        assert_eq!(
            access(Some(&p), ORGS, Grant::NONE, Grant::NONE),
            Access::NONE
        );
        // A user grant means nothing on an unrestricted collection.
        assert_eq!(
            access(Some(&p), ORGS, Grant::NONE, Grant::READ),
            Access::NONE
        );
    }

    #[test]
    fn public_collection_with_grants() {
        let p = principal();
        // Without a grant: anyone may read the CLEAR objects.
        let a = access(Some(&p), PUBLIC, Grant::NONE, Grant::NONE);
        assert_eq!(
            a,
            Access {
                read: true,
                write: false,
                max_tlp: TlpLevel::Clear
            }
        );
        // A write grant to a public collection keeps reading at CLEAR.
        let w = access(Some(&p), PUBLIC, Grant::WRITE, Grant::NONE);
        assert!(w.read && w.write);
        assert_eq!(w.max_tlp, TlpLevel::Clear);
    }

    #[test]
    fn restricted_needs_user_grant() {
        let p = principal();
        assert_eq!(
            access(Some(&p), RESTRICTED, Grant::READ_WRITE, Grant::NONE),
            Access::NONE
        );
        let a = access(Some(&p), RESTRICTED, Grant::NONE, Grant::READ);
        assert_eq!(
            a,
            Access {
                read: true,
                write: false,
                max_tlp: TlpLevel::Red
            }
        );
        assert!(visible_to(TlpLevel::Red, a));
    }

    #[test]
    fn admin_flag_grants_nothing() {
        let mut p = principal();
        p.admin = true;
        assert_eq!(
            access(Some(&p), ORGS, Grant::NONE, Grant::NONE),
            Access::NONE
        );
        assert_eq!(
            access(Some(&p), RESTRICTED, Grant::NONE, Grant::NONE),
            Access::NONE
        );
    }
}
