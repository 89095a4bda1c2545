//! Organizations, users, tokens, API roots, collections and grants on SQLite.
//!
//! Plain synchronous functions over a connection; [`super::SqliteStore`] runs them on a
//! blocking thread, inside a transaction where they write.

use super::{backend, ts_from_us, unique_or};
use crate::keys::now_micros;
use crate::tlp_policy;
use crate::token;
use crate::types::*;
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// The media type a collection holds when none is given (TAXII 2.1 §5.2).
pub const DEFAULT_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// Longest accepted name of an organization, user or API root.
const MAX_NAME: usize = 128;

/// Refuses empty, over-long and control-character names.
fn check_name(kind: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() || name.trim() != name {
        return Err(StoreError::Invalid(format!(
            "{kind} name must be non-empty without surrounding spaces"
        )));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{kind} name must be at most {MAX_NAME} characters without control characters"
        )));
    }
    Ok(())
}

fn org_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_org((id, name, created): (i64, String, i64)) -> Result<Organization> {
    Ok(Organization {
        id,
        name,
        created: ts_from_us(created)?,
    })
}

pub(super) fn create_org(conn: &Connection, name: &str) -> Result<Organization> {
    check_name("organization", name)?;
    let created = now_micros();
    conn.execute(
        "INSERT INTO orgs (name, created_us) VALUES (?1, ?2)",
        params![name, created],
    )
    .map_err(|e| unique_or(e, "organization", name))?;
    to_org((conn.last_insert_rowid(), name.to_owned(), created))
}

pub(super) fn org(conn: &Connection, name: &str) -> Result<Option<Organization>> {
    conn.query_row(
        "SELECT id, name, created_us FROM orgs WHERE name = ?1",
        [name],
        org_from_row,
    )
    .optional()
    .map_err(backend)?
    .map(to_org)
    .transpose()
}

pub(super) fn list_orgs(conn: &Connection) -> Result<Vec<Organization>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, created_us FROM orgs ORDER BY name")
        .map_err(backend)?;
    let rows = stmt.query_map([], org_from_row).map_err(backend)?;
    rows.map(|r| to_org(r.map_err(backend)?)).collect()
}

const USER_COLUMNS: &str = "u.id, u.name, u.org_id, o.name, u.admin, u.created_us";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, String, i64, String, bool, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_user(
    (id, name, org_id, org_name, admin, created): (i64, String, i64, String, bool, i64),
) -> Result<User> {
    Ok(User {
        id,
        name,
        org_id,
        org_name,
        admin,
        created: ts_from_us(created)?,
    })
}

pub(super) fn create_user(
    conn: &Connection,
    name: &str,
    org_name: &str,
    admin: bool,
) -> Result<User> {
    check_name("user", name)?;
    let org =
        org(conn, org_name)?.ok_or_else(|| StoreError::not_found("organization", org_name))?;
    let created = now_micros();
    conn.execute(
        "INSERT INTO users (name, org_id, admin, created_us) VALUES (?1, ?2, ?3, ?4)",
        params![name, org.id, admin, created],
    )
    .map_err(|e| unique_or(e, "user", name))?;
    to_user((
        conn.last_insert_rowid(),
        name.to_owned(),
        org.id,
        org.name,
        admin,
        created,
    ))
}

pub(super) fn user(conn: &Connection, name: &str) -> Result<Option<User>> {
    conn.query_row(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.name = ?1"
        ),
        [name],
        user_from_row,
    )
    .optional()
    .map_err(backend)?
    .map(to_user)
    .transpose()
}

pub(super) fn list_users(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id ORDER BY u.name"
        ))
        .map_err(backend)?;
    let rows = stmt.query_map([], user_from_row).map_err(backend)?;
    rows.map(|r| to_user(r.map_err(backend)?)).collect()
}

pub(super) fn create_token(conn: &Connection, user_name: &str) -> Result<NewToken> {
    let user = user(conn, user_name)?.ok_or_else(|| StoreError::not_found("user", user_name))?;
    let secret = token::generate_secret();
    let hash = token::hash_secret(&secret);
    let created = now_micros();
    conn.execute(
        "INSERT INTO tokens (user_id, hash, created_us) VALUES (?1, ?2, ?3)",
        params![user.id, &hash[..], created],
    )
    .map_err(backend)?;
    Ok(NewToken {
        info: TokenInfo {
            id: conn.last_insert_rowid(),
            user_id: user.id,
            user_name: user.name,
            created: ts_from_us(created)?,
            revoked: false,
        },
        secret,
    })
}

/// Looks a secret up by its digest; `user` restricts the match to that user's tokens
/// (HTTP Basic).
pub(super) fn authenticate(
    conn: &Connection,
    secret: &str,
    user: Option<&str>,
) -> Result<Option<Principal>> {
    if !token::well_formed(secret) {
        return Ok(None);
    }
    let hash = token::hash_secret(secret);
    // Cached statements here and in `collection_row` / `api_root`: they run on every
    // request, and preparing them again was 5% of a 1,000-object page's CPU (`perf`).
    let found = conn
        .prepare_cached(
            "SELECT t.hash, u.id, u.name, o.id, o.name, u.admin
             FROM tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id
             WHERE t.hash = ?1 AND t.revoked = 0",
        )
        .map_err(backend)?
        .query_row([&hash[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Principal {
                    user_id: r.get(1)?,
                    user_name: r.get(2)?,
                    org_id: r.get(3)?,
                    org_name: r.get(4)?,
                    admin: r.get(5)?,
                },
            ))
        })
        .optional()
        .map_err(backend)?;
    Ok(found.and_then(|(stored, principal)| {
        let owner_ok = user.is_none_or(|u| u == principal.user_name);
        (token::digests_equal(&stored, &hash) && owner_ok).then_some(principal)
    }))
}

pub(super) fn revoke_token(conn: &Connection, id: TokenId) -> Result<()> {
    let n = conn
        .execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", [id])
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::not_found("token", id.to_string()));
    }
    Ok(())
}

pub(super) fn list_tokens(conn: &Connection, user: Option<&str>) -> Result<Vec<TokenInfo>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT t.id, u.id, u.name, t.created_us, t.revoked
             FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE ?1 IS NULL OR u.name = ?1 ORDER BY t.id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map([user], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(backend)?;
    rows.map(|r| {
        let (id, user_id, user_name, created, revoked): (i64, i64, String, i64, bool) =
            r.map_err(backend)?;
        Ok(TokenInfo {
            id,
            user_id,
            user_name,
            created: ts_from_us(created)?,
            revoked,
        })
    })
    .collect()
}

/// API root names become URL path segments (`/NAME/`), so only unreserved characters.
fn check_root_name(name: &str) -> Result<()> {
    check_name("API root", name)?;
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        && name != "."
        && name != ".."
        && name != "taxii2";
    if !ok {
        return Err(StoreError::Invalid(format!(
            "API root name {name:?} must use only letters, digits, '-', '_', '.', '~' and not be 'taxii2'"
        )));
    }
    Ok(())
}

fn to_root(
    (name, title, description, created): (String, String, Option<String>, i64),
) -> Result<ApiRoot> {
    Ok(ApiRoot {
        name,
        title,
        description,
        created: ts_from_us(created)?,
    })
}

fn root_from_row(r: &Row<'_>) -> rusqlite::Result<(String, String, Option<String>, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

pub(super) fn create_api_root(conn: &Connection, root: &NewApiRoot) -> Result<ApiRoot> {
    check_root_name(&root.name)?;
    let title = if root.title.trim().is_empty() {
        root.name.clone()
    } else {
        root.title.clone()
    };
    let created = now_micros();
    conn.execute(
        "INSERT INTO api_roots (name, title, description, created_us) VALUES (?1, ?2, ?3, ?4)",
        params![root.name, title, root.description, created],
    )
    .map_err(|e| unique_or(e, "API root", &root.name))?;
    to_root((root.name.clone(), title, root.description.clone(), created))
}

pub(super) fn api_root(conn: &Connection, name: &str) -> Result<Option<ApiRoot>> {
    conn.prepare_cached(
        "SELECT name, title, description, created_us FROM api_roots WHERE name = ?1",
    )
    .map_err(backend)?
    .query_row([name], root_from_row)
    .optional()
    .map_err(backend)?
    .map(to_root)
    .transpose()
}

pub(super) fn list_api_roots(conn: &Connection) -> Result<Vec<ApiRoot>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, title, description, created_us FROM api_roots ORDER BY name")
        .map_err(backend)?;
    let rows = stmt.query_map([], root_from_row).map_err(backend)?;
    rows.map(|r| to_root(r.map_err(backend)?)).collect()
}

const COLLECTION_COLUMNS: &str = "seq, id, api_root, title, description, alias, public_read, restricted, media_types, created_us";

/// A collection row with its internal key.
pub(super) struct CollectionRow {
    pub seq: i64,
    pub collection: Collection,
}

/// A collection row as read, before its media types are decoded.
struct RawCollection {
    seq: i64,
    id: String,
    api_root: String,
    title: String,
    description: Option<String>,
    alias: Option<String>,
    public_read: bool,
    restricted: bool,
    media: String,
    created: i64,
}

fn collection_from_row(r: &Row<'_>) -> rusqlite::Result<RawCollection> {
    Ok(RawCollection {
        seq: r.get(0)?,
        id: r.get(1)?,
        api_root: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        alias: r.get(5)?,
        public_read: r.get(6)?,
        restricted: r.get(7)?,
        media: r.get(8)?,
        created: r.get(9)?,
    })
}

fn to_collection(raw: RawCollection) -> Result<CollectionRow> {
    let media_types: Vec<String> = serde_json::from_str(&raw.media)
        .map_err(|e| StoreError::Corrupt(format!("collection {} media types: {e}", raw.id)))?;
    Ok(CollectionRow {
        seq: raw.seq,
        collection: Collection {
            id: raw.id,
            api_root: raw.api_root,
            title: raw.title,
            description: raw.description,
            alias: raw.alias,
            flags: CollectionFlags {
                public_read: raw.public_read,
                restricted: raw.restricted,
            },
            media_types,
            created: ts_from_us(raw.created)?,
        },
    })
}

pub(super) fn create_collection(conn: &Connection, new: &NewCollection) -> Result<Collection> {
    if api_root(conn, &new.api_root)?.is_none() {
        return Err(StoreError::not_found("API root", &new.api_root));
    }
    if new.title.trim().is_empty() {
        return Err(StoreError::Invalid(
            "collection title must not be empty".into(),
        ));
    }
    if new.flags.public_read && new.flags.restricted {
        return Err(StoreError::Invalid(
            "a collection cannot be both public-read and restricted: restricted readers are named individually".into(),
        ));
    }
    let media_types = if new.media_types.is_empty() {
        vec![DEFAULT_MEDIA_TYPE.to_owned()]
    } else {
        new.media_types.clone()
    };
    let media = serde_json::to_string(&media_types)
        .map_err(|e| StoreError::Invalid(format!("media types: {e}")))?;
    let id = uuid::Uuid::new_v4().to_string();
    let created = now_micros();
    conn.execute(
        "INSERT INTO collections (id, api_root, title, description, alias, public_read, restricted, media_types, created_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            new.api_root,
            new.title,
            new.description,
            new.alias,
            new.flags.public_read,
            new.flags.restricted,
            media,
            created
        ],
    )
    .map_err(|e| unique_or(e, "collection alias", new.alias.as_deref().unwrap_or("")))?;
    Ok(Collection {
        id,
        api_root: new.api_root.clone(),
        title: new.title.clone(),
        description: new.description.clone(),
        alias: new.alias.clone(),
        flags: new.flags,
        media_types,
        created: ts_from_us(created)?,
    })
}

pub(super) fn collection_row(conn: &Connection, id: &str) -> Result<Option<CollectionRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?1"
    ))
    .map_err(backend)?
    .query_row([id], collection_from_row)
    .optional()
    .map_err(backend)?
    .map(to_collection)
    .transpose()
}

/// The collection's row, or `NotFound`.
pub(super) fn require_collection(conn: &Connection, id: &str) -> Result<CollectionRow> {
    collection_row(conn, id)?.ok_or_else(|| StoreError::not_found("collection", id))
}

pub(super) fn list_collections(
    conn: &Connection,
    root: Option<&str>,
) -> Result<Vec<CollectionRow>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections WHERE ?1 IS NULL OR api_root = ?1 ORDER BY seq"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map([root], collection_from_row)
        .map_err(backend)?;
    rows.map(|r| to_collection(r.map_err(backend)?)).collect()
}

pub(super) fn grant_org(
    conn: &Connection,
    collection_id: &str,
    org_name: &str,
    grant: Grant,
) -> Result<()> {
    let c = require_collection(conn, collection_id)?;
    let o = org(conn, org_name)?.ok_or_else(|| StoreError::not_found("organization", org_name))?;
    if grant == Grant::NONE {
        conn.execute(
            "DELETE FROM org_grants WHERE collection = ?1 AND org_id = ?2",
            params![c.seq, o.id],
        )
        .map_err(backend)?;
    } else {
        conn.execute(
            "INSERT INTO org_grants (collection, org_id, can_read, can_write) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (collection, org_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
            params![c.seq, o.id, grant.read, grant.write],
        )
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn grant_user(
    conn: &Connection,
    collection_id: &str,
    user_name: &str,
    grant: Grant,
) -> Result<()> {
    let c = require_collection(conn, collection_id)?;
    let u = user(conn, user_name)?.ok_or_else(|| StoreError::not_found("user", user_name))?;
    if grant == Grant::NONE {
        conn.execute(
            "DELETE FROM user_grants WHERE collection = ?1 AND user_id = ?2",
            params![c.seq, u.id],
        )
        .map_err(backend)?;
    } else {
        conn.execute(
            "INSERT INTO user_grants (collection, user_id, can_read, can_write) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (collection, user_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
            params![c.seq, u.id, grant.read, grant.write],
        )
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) fn grants(conn: &Connection, collection_id: &str) -> Result<Vec<GrantEntry>> {
    let c = require_collection(conn, collection_id)?;
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT o.name, g.can_read, g.can_write FROM org_grants g JOIN orgs o ON o.id = g.org_id
             WHERE g.collection = ?1 ORDER BY o.name",
        )
        .map_err(backend)?;
    for r in stmt
        .query_map([c.seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(backend)?
    {
        let (name, read, write): (String, bool, bool) = r.map_err(backend)?;
        out.push(GrantEntry {
            grantee: Grantee::Org(name),
            grant: Grant { read, write },
        });
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT u.name, g.can_read, g.can_write FROM user_grants g JOIN users u ON u.id = g.user_id
             WHERE g.collection = ?1 ORDER BY u.name",
        )
        .map_err(backend)?;
    for r in stmt
        .query_map([c.seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(backend)?
    {
        let (name, read, write): (String, bool, bool) = r.map_err(backend)?;
        out.push(GrantEntry {
            grantee: Grantee::User(name),
            grant: Grant { read, write },
        });
    }
    Ok(out)
}

/// The principal's access to a collection row, from the stored grants through
/// [`tlp_policy::access`].
pub(super) fn access_to(
    conn: &Connection,
    principal: Option<&Principal>,
    c: &CollectionRow,
) -> Result<Access> {
    let (org_grant, user_grant) = match principal {
        None => (Grant::NONE, Grant::NONE),
        Some(p) => {
            let org_grant = conn
                .prepare_cached("SELECT can_read, can_write FROM org_grants WHERE collection = ?1 AND org_id = ?2")
                .map_err(backend)?
                .query_row(params![c.seq, p.org_id], |r| Ok(Grant { read: r.get(0)?, write: r.get(1)? }))
                .optional()
                .map_err(backend)?
                .unwrap_or(Grant::NONE);
            let user_grant = conn
                .prepare_cached("SELECT can_read, can_write FROM user_grants WHERE collection = ?1 AND user_id = ?2")
                .map_err(backend)?
                .query_row(params![c.seq, p.user_id], |r| Ok(Grant { read: r.get(0)?, write: r.get(1)? }))
                .optional()
                .map_err(backend)?
                .unwrap_or(Grant::NONE);
            (org_grant, user_grant)
        }
    };
    Ok(tlp_policy::access(
        principal,
        c.collection.flags,
        org_grant,
        user_grant,
    ))
}
