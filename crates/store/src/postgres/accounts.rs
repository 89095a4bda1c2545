//! Organizations, users, tokens, API roots, collections and grants on PostgreSQL.
//!
//! The same rules as `sqlite/accounts.rs` (names, token digests, the TLP policy through
//! [`tlp_policy::access`]); the one difference is that access to collections is computed
//! from one joined query, so listing a root's collections is one statement however many
//! there are.

use super::{Db, get, ts_from_us};
use crate::keys::now_micros;
use crate::tlp_policy;
use crate::token;
use crate::types::*;
use crate::{Result, StoreError};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

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

fn to_org(r: &Row) -> Result<Organization> {
    Ok(Organization {
        id: get(r, 0)?,
        name: get(r, 1)?,
        created: ts_from_us(get(r, 2)?)?,
    })
}

pub(super) async fn create_org<C: GenericClient>(
    db: &Db<'_, C>,
    name: &str,
) -> Result<Organization> {
    check_name("organization", name)?;
    let created = now_micros();
    let r = db
        .query_one_unique(
            "INSERT INTO orgs (name, created_us) VALUES ($1, $2) RETURNING id, name, created_us",
            &[&name, &created],
            "organization",
            name,
        )
        .await?;
    to_org(&r)
}

pub(super) async fn org<C: GenericClient>(
    db: &Db<'_, C>,
    name: &str,
) -> Result<Option<Organization>> {
    db.query_opt(
        "SELECT id, name, created_us FROM orgs WHERE name = $1",
        &[&name],
    )
    .await?
    .as_ref()
    .map(to_org)
    .transpose()
}

pub(super) async fn list_orgs<C: GenericClient>(db: &Db<'_, C>) -> Result<Vec<Organization>> {
    db.query(
        "SELECT id, name, created_us FROM orgs ORDER BY name COLLATE \"C\"",
        &[],
    )
    .await?
    .iter()
    .map(to_org)
    .collect()
}

const USER_COLUMNS: &str = "u.id, u.name, u.org_id, o.name, u.admin, u.created_us";

fn to_user(r: &Row) -> Result<User> {
    Ok(User {
        id: get(r, 0)?,
        name: get(r, 1)?,
        org_id: get(r, 2)?,
        org_name: get(r, 3)?,
        admin: get(r, 4)?,
        created: ts_from_us(get(r, 5)?)?,
    })
}

pub(super) async fn create_user<C: GenericClient>(
    db: &Db<'_, C>,
    name: &str,
    org_name: &str,
    admin: bool,
) -> Result<User> {
    check_name("user", name)?;
    let org = org(db, org_name)
        .await?
        .ok_or_else(|| StoreError::not_found("organization", org_name))?;
    let created = now_micros();
    let r = db
        .query_one_unique(
            "INSERT INTO users (name, org_id, admin, created_us) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&name, &org.id, &admin, &created],
            "user",
            name,
        )
        .await?;
    Ok(User {
        id: get(&r, 0)?,
        name: name.to_owned(),
        org_id: org.id,
        org_name: org.name,
        admin,
        created: ts_from_us(created)?,
    })
}

pub(super) async fn user<C: GenericClient>(db: &Db<'_, C>, name: &str) -> Result<Option<User>> {
    db.query_opt(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.name = $1"
        ),
        &[&name],
    )
    .await?
    .as_ref()
    .map(to_user)
    .transpose()
}

pub(super) async fn list_users<C: GenericClient>(db: &Db<'_, C>) -> Result<Vec<User>> {
    db.query(
        &format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN orgs o ON o.id = u.org_id ORDER BY u.name COLLATE \"C\""
        ),
        &[],
    )
    .await?
    .iter()
    .map(to_user)
    .collect()
}

pub(super) async fn create_token<C: GenericClient>(
    db: &Db<'_, C>,
    user_name: &str,
) -> Result<NewToken> {
    let user = user(db, user_name)
        .await?
        .ok_or_else(|| StoreError::not_found("user", user_name))?;
    let secret = token::generate_secret();
    let hash = token::hash_secret(&secret);
    let created = now_micros();
    let r = db
        .query_one(
            "INSERT INTO tokens (user_id, hash, created_us) VALUES ($1, $2, $3) RETURNING id",
            &[&user.id, &&hash[..], &created],
        )
        .await?;
    Ok(NewToken {
        info: TokenInfo {
            id: get(&r, 0)?,
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
pub(super) async fn authenticate<C: GenericClient>(
    db: &Db<'_, C>,
    secret: &str,
    user: Option<&str>,
) -> Result<Option<Principal>> {
    if !token::well_formed(secret) {
        return Ok(None);
    }
    let hash = token::hash_secret(secret);
    let Some(r) = db
        .query_opt(
            "SELECT t.hash, u.id, u.name, o.id, o.name, u.admin
             FROM tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id
             WHERE t.hash = $1 AND NOT t.revoked",
            &[&&hash[..]],
        )
        .await?
    else {
        return Ok(None);
    };
    let stored: Vec<u8> = get(&r, 0)?;
    let principal = Principal {
        user_id: get(&r, 1)?,
        user_name: get(&r, 2)?,
        org_id: get(&r, 3)?,
        org_name: get(&r, 4)?,
        admin: get(&r, 5)?,
    };
    let owner_ok = user.is_none_or(|u| u == principal.user_name);
    Ok((token::digests_equal(&stored, &hash) && owner_ok).then_some(principal))
}

pub(super) async fn revoke_token<C: GenericClient>(db: &Db<'_, C>, id: TokenId) -> Result<()> {
    let n = db
        .execute("UPDATE tokens SET revoked = true WHERE id = $1", &[&id])
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("token", id.to_string()));
    }
    Ok(())
}

pub(super) async fn list_tokens<C: GenericClient>(
    db: &Db<'_, C>,
    user: Option<&str>,
) -> Result<Vec<TokenInfo>> {
    db.query(
        "SELECT t.id, u.id, u.name, t.created_us, t.revoked
         FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE $1::text IS NULL OR u.name = $1 ORDER BY t.id",
        &[&user],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TokenInfo {
            id: get(r, 0)?,
            user_id: get(r, 1)?,
            user_name: get(r, 2)?,
            created: ts_from_us(get(r, 3)?)?,
            revoked: get(r, 4)?,
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

fn to_root(r: &Row) -> Result<ApiRoot> {
    Ok(ApiRoot {
        name: get(r, 0)?,
        title: get(r, 1)?,
        description: get(r, 2)?,
        created: ts_from_us(get(r, 3)?)?,
    })
}

pub(super) async fn create_api_root<C: GenericClient>(
    db: &Db<'_, C>,
    root: &NewApiRoot,
) -> Result<ApiRoot> {
    check_root_name(&root.name)?;
    let title = if root.title.trim().is_empty() {
        root.name.clone()
    } else {
        root.title.clone()
    };
    let created = now_micros();
    db.execute_unique(
        "INSERT INTO api_roots (name, title, description, created_us) VALUES ($1, $2, $3, $4)",
        &[&root.name, &title, &root.description, &created],
        "API root",
        &root.name,
    )
    .await?;
    Ok(ApiRoot {
        name: root.name.clone(),
        title,
        description: root.description.clone(),
        created: ts_from_us(created)?,
    })
}

pub(super) async fn api_root<C: GenericClient>(
    db: &Db<'_, C>,
    name: &str,
) -> Result<Option<ApiRoot>> {
    db.query_opt(
        "SELECT name, title, description, created_us FROM api_roots WHERE name = $1",
        &[&name],
    )
    .await?
    .as_ref()
    .map(to_root)
    .transpose()
}

pub(super) async fn list_api_roots<C: GenericClient>(db: &Db<'_, C>) -> Result<Vec<ApiRoot>> {
    db.query(
        "SELECT name, title, description, created_us FROM api_roots ORDER BY name COLLATE \"C\"",
        &[],
    )
    .await?
    .iter()
    .map(to_root)
    .collect()
}

const COLLECTION_COLUMNS: &str = "c.seq, c.id, c.api_root, c.title, c.description, c.alias, c.public_read, c.restricted, c.media_types, c.created_us";

/// A collection row with its internal key.
#[derive(Debug, Clone)]
pub(super) struct CollectionRow {
    pub seq: i64,
    pub collection: Collection,
}

/// Decodes [`COLLECTION_COLUMNS`] (the first ten columns of `r`).
fn to_collection(r: &Row) -> Result<CollectionRow> {
    let id: String = get(r, 1)?;
    let media: String = get(r, 8)?;
    let media_types: Vec<String> = serde_json::from_str(&media)
        .map_err(|e| StoreError::Corrupt(format!("collection {id} media types: {e}")))?;
    Ok(CollectionRow {
        seq: get(r, 0)?,
        collection: Collection {
            id,
            api_root: get(r, 2)?,
            title: get(r, 3)?,
            description: get(r, 4)?,
            alias: get(r, 5)?,
            flags: CollectionFlags {
                public_read: get(r, 6)?,
                restricted: get(r, 7)?,
            },
            media_types,
            created: ts_from_us(get(r, 9)?)?,
        },
    })
}

pub(super) async fn create_collection<C: GenericClient>(
    db: &Db<'_, C>,
    new: &NewCollection,
) -> Result<Collection> {
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
    if api_root(db, &new.api_root).await?.is_none() {
        return Err(StoreError::not_found("API root", &new.api_root));
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
    db.execute_unique(
        "INSERT INTO collections (id, api_root, title, description, alias, public_read, restricted, media_types, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &id,
            &new.api_root,
            &new.title,
            &new.description,
            &new.alias,
            &new.flags.public_read,
            &new.flags.restricted,
            &media,
            &created,
        ],
        "collection alias",
        new.alias.as_deref().unwrap_or(""),
    )
    .await?;
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

pub(super) async fn collection_row<C: GenericClient>(
    db: &Db<'_, C>,
    id: &str,
) -> Result<Option<CollectionRow>> {
    db.query_opt(
        &format!("SELECT {COLLECTION_COLUMNS} FROM collections c WHERE c.id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(to_collection)
    .transpose()
}

/// The collection's row, or `NotFound`.
pub(super) async fn require_collection<C: GenericClient>(
    db: &Db<'_, C>,
    id: &str,
) -> Result<CollectionRow> {
    collection_row(db, id)
        .await?
        .ok_or_else(|| StoreError::not_found("collection", id))
}

pub(super) async fn list_collections<C: GenericClient>(
    db: &Db<'_, C>,
    root: Option<&str>,
) -> Result<Vec<CollectionRow>> {
    db.query(
        &format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections c WHERE $1::text IS NULL OR c.api_root = $1 ORDER BY c.seq"
        ),
        &[&root],
    )
    .await?
    .iter()
    .map(to_collection)
    .collect()
}

pub(super) async fn grant_org<C: GenericClient>(
    db: &Db<'_, C>,
    collection_id: &str,
    org_name: &str,
    grant: Grant,
) -> Result<()> {
    let c = require_collection(db, collection_id).await?;
    let o = org(db, org_name)
        .await?
        .ok_or_else(|| StoreError::not_found("organization", org_name))?;
    if grant == Grant::NONE {
        db.execute(
            "DELETE FROM org_grants WHERE collection = $1 AND org_id = $2",
            &[&c.seq, &o.id],
        )
        .await?;
    } else {
        db.execute(
            "INSERT INTO org_grants (collection, org_id, can_read, can_write) VALUES ($1, $2, $3, $4)
             ON CONFLICT (collection, org_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
            &[&c.seq, &o.id, &grant.read, &grant.write],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn grant_user<C: GenericClient>(
    db: &Db<'_, C>,
    collection_id: &str,
    user_name: &str,
    grant: Grant,
) -> Result<()> {
    let c = require_collection(db, collection_id).await?;
    let u = user(db, user_name)
        .await?
        .ok_or_else(|| StoreError::not_found("user", user_name))?;
    if grant == Grant::NONE {
        db.execute(
            "DELETE FROM user_grants WHERE collection = $1 AND user_id = $2",
            &[&c.seq, &u.id],
        )
        .await?;
    } else {
        db.execute(
            "INSERT INTO user_grants (collection, user_id, can_read, can_write) VALUES ($1, $2, $3, $4)
             ON CONFLICT (collection, user_id) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
            &[&c.seq, &u.id, &grant.read, &grant.write],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn grants<C: GenericClient>(
    db: &Db<'_, C>,
    collection_id: &str,
) -> Result<Vec<GrantEntry>> {
    let c = require_collection(db, collection_id).await?;
    // Organizations first, then users, each by name (as on SQLite).
    let rows = db
        .query(
            "SELECT kind, name, can_read, can_write FROM (
                 SELECT 0 AS kind, o.name, g.can_read, g.can_write FROM org_grants g JOIN orgs o ON o.id = g.org_id
                 WHERE g.collection = $1
                 UNION ALL
                 SELECT 1, u.name, g.can_read, g.can_write FROM user_grants g JOIN users u ON u.id = g.user_id
                 WHERE g.collection = $1
             ) AS g ORDER BY kind, name COLLATE \"C\"",
            &[&c.seq],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let kind: i32 = get(r, 0)?;
            let name: String = get(r, 1)?;
            Ok(GrantEntry {
                grantee: if kind == 0 {
                    Grantee::Org(name)
                } else {
                    Grantee::User(name)
                },
                grant: Grant {
                    read: get(r, 2)?,
                    write: get(r, 3)?,
                },
            })
        })
        .collect()
}

/// The columns after [`COLLECTION_COLUMNS`] that carry a principal's grants (NULL when
/// none), and the joins that produce them, for `$1` = org id and `$2` = user id.
const GRANT_JOINS: &str = "LEFT JOIN org_grants og ON og.collection = c.seq AND og.org_id = $1
     LEFT JOIN user_grants ug ON ug.collection = c.seq AND ug.user_id = $2";
const GRANT_COLUMNS: &str = "og.can_read, og.can_write, ug.can_read, ug.can_write";

/// A collection row followed by [`GRANT_COLUMNS`], with the principal's access.
fn to_access(r: &Row, principal: Option<&Principal>) -> Result<(Collection, Access)> {
    let row = to_collection(r)?;
    let grant = |read: usize| -> Result<Grant> {
        let read_v: Option<bool> = get(r, read)?;
        let write_v: Option<bool> = get(r, read + 1)?;
        Ok(Grant {
            read: read_v.unwrap_or(false),
            write: write_v.unwrap_or(false),
        })
    };
    let (org_grant, user_grant) = match principal {
        None => (Grant::NONE, Grant::NONE),
        Some(_) => (grant(10)?, grant(12)?),
    };
    let access = tlp_policy::access(principal, row.collection.flags, org_grant, user_grant);
    Ok((row.collection, access))
}

/// The principal's ids for [`GRANT_JOINS`]; an anonymous caller matches no grant.
fn principal_ids(principal: Option<&Principal>) -> (i64, i64) {
    principal.map_or((-1, -1), |p| (p.org_id, p.user_id))
}

pub(super) async fn access<C: GenericClient>(
    db: &Db<'_, C>,
    principal: Option<&Principal>,
    collection_id: &str,
) -> Result<Option<(Collection, Access)>> {
    let (org_id, user_id) = principal_ids(principal);
    db.query_opt(
        &format!(
            "SELECT {COLLECTION_COLUMNS}, {GRANT_COLUMNS} FROM collections c {GRANT_JOINS} WHERE c.id = $3"
        ),
        &[&org_id, &user_id, &collection_id],
    )
    .await?
    .map(|r| to_access(&r, principal))
    .transpose()
}

pub(super) async fn collections_for<C: GenericClient>(
    db: &Db<'_, C>,
    principal: Option<&Principal>,
    api_root: &str,
) -> Result<Vec<(Collection, Access)>> {
    let (org_id, user_id) = principal_ids(principal);
    let rows = db
        .query(
            &format!(
                "SELECT {COLLECTION_COLUMNS}, {GRANT_COLUMNS} FROM collections c {GRANT_JOINS} WHERE c.api_root = $3 ORDER BY c.seq"
            ),
            &[&org_id, &user_id, &api_root],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (c, a) = to_access(r, principal)?;
        if a.any() {
            out.push((c, a));
        }
    }
    Ok(out)
}
