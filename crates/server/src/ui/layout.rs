//! The page frame every UI page shares: document head, skip link, navigation, the signed-in
//! user with the sign-out form, and small building blocks (TLP badges, the CSRF field,
//! timestamps).
//!
//! Everything is `maud` markup, so interpolated values are HTML-escaped; the only
//! `PreEscaped` values in the UI are constants of this crate and SVG built from escaped
//! parts ([`crate::ui::graph`]).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use stix::TlpLevel;

use crate::ui::Session;
use crate::ui::csrf;

/// Which navigation entry a page belongs to (highlighted in the bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Collections, object lists and object pages.
    Collections,
    /// The sightings view.
    Sightings,
    /// Pushing a bundle.
    Push,
    /// The transparency log.
    Log,
    /// Administration.
    Admin,
}

/// Navigation entries: where, label, and whether only administrators see it.
const NAV: [(Nav, &str, &str, bool); 5] = [
    (Nav::Collections, "/ui/collections", "Collections", false),
    (Nav::Sightings, "/ui/sightings", "Sightings", false),
    (Nav::Push, "/ui/push", "Push", false),
    (Nav::Log, "/ui/log", "Log", false),
    (Nav::Admin, "/ui/admin", "Admin", true),
];

/// An HTML answer (`text/html; charset=utf-8`).
pub fn html(markup: Markup) -> Response {
    let mut r = markup.into_string().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · entente" }
            link rel="stylesheet" href=(crate::ui::assets::CSS_PATH);
            script src=(crate::ui::assets::JS_PATH) defer {}
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare_page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.bar {
                    a.brand href="/ui/" { "entente" }
                }
                main #main tabindex="-1" { (content) }
            }
        }
    }
}

/// A page of the signed-in UI: the navigation with `active` highlighted, the user and the
/// sign-out button, then `content`.
pub fn page(session: &Session, title: &str, active: Nav, content: Markup) -> Markup {
    let p = &session.principal;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.bar {
                    a.brand href="/ui/" { "entente" }
                    nav aria-label="Main" {
                        ul {
                            @for (nav, href, label, admin_only) in NAV {
                                @if !admin_only || p.admin {
                                    li {
                                        @if nav == active {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form.signout method="post" action="/ui/signout" {
                        (csrf_field(session))
                        span.who { (p.user_name) " · " (p.org_name) }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main tabindex="-1" { (content) }
            }
        }
    }
}

/// The hidden field carrying the session's CSRF token; put it in every form.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(session.csrf); }
}

/// `?csrf=TOKEN` for a `multipart/form-data` form's `action`, whose body the CSRF check
/// does not parse.
pub fn csrf_query(session: &Session) -> String {
    format!("{}={}", csrf::FIELD, session.csrf)
}

/// A TLP badge in the FIRST TLP 2.0 colours (text on black), e.g. `TLP:AMBER+STRICT`.
pub fn tlp_badge(level: TlpLevel) -> Markup {
    html! { span class={ "tlp tlp-" (tlp_class(level)) } { (level.label()) } }
}

/// The CSS class suffix of a TLP level.
pub fn tlp_class(level: TlpLevel) -> &'static str {
    match level {
        TlpLevel::Clear => "clear",
        TlpLevel::Green => "green",
        TlpLevel::Amber => "amber",
        TlpLevel::AmberStrict => "amber-strict",
        TlpLevel::Red => "red",
    }
}

/// A timestamp as a `<time>` element, shortened to seconds for reading (the full value in
/// its `datetime`).
pub fn time(ts: &str) -> Markup {
    let short = ts
        .get(..19)
        .filter(|_| ts.len() > 19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| ts.replace('T', " "));
    html! { time datetime=(ts) title=(ts) { (short) } }
}
