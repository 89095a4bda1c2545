//! A small relationship graph drawn on the server as inline SVG: the object in the middle,
//! its neighbours on a circle around it, one line per relationship, each node a link to
//! its page. No script, no layout engine: with at most [`MAX_NODES`] neighbours a circle
//! is readable, and the lists beside the graph carry the full detail.
//!
//! Built with `maud`, so every label is escaped like any other text; the only numbers are
//! computed coordinates.

use maud::{Markup, html};

/// Most neighbours drawn; the page lists the rest.
pub const MAX_NODES: usize = 16;
/// Longest label drawn, in characters.
const MAX_LABEL: usize = 24;

/// One neighbour of the centre.
#[derive(Debug, Clone)]
pub struct Neighbour {
    /// Its label (name or id).
    pub label: String,
    /// Its type, drawn under the label.
    pub type_name: String,
    /// Its page.
    pub href: String,
    /// The relationship, e.g. `uses →` or `← indicates`.
    pub edge: String,
}

fn short(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX_LABEL - 1).collect();
        t.push('…');
        t
    }
}

/// The SVG, or nothing when there are no neighbours.
pub fn svg(center: &str, center_type: &str, neighbours: &[Neighbour]) -> Markup {
    if neighbours.is_empty() {
        return html! {};
    }
    let shown = &neighbours[..neighbours.len().min(MAX_NODES)];
    // Few neighbours need less height; the circle flattens into an ellipse.
    let (w, h) = (720.0_f64, if shown.len() <= 4 { 340.0_f64 } else { 460.0 });
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (rx, ry) = (w / 2.0 - 110.0, h / 2.0 - 60.0);
    let n = shown.len() as f64;
    let points: Vec<(f64, f64)> = (0..shown.len())
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect();
    let title = format!("Relationships of {center}");
    html! {
        svg.graph xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (w) " " (h) }
            role="img" aria-label=(title) {
            title { (title) }
            @for (x, y) in &points {
                line x1=(fmt(cx)) y1=(fmt(cy)) x2=(fmt(*x)) y2=(fmt(*y)) {}
            }
            @for (nb, (x, y)) in shown.iter().zip(&points) {
                text x=(fmt((cx + x) / 2.0)) y=(fmt((cy + y) / 2.0 - 4.0)) text-anchor="middle" { (short(&nb.edge)) }
            }
            @for (nb, (x, y)) in shown.iter().zip(&points) {
                a href=(nb.href) {
                    circle cx=(fmt(*x)) cy=(fmt(*y)) r="9" {}
                    text x=(fmt(*x)) y=(fmt(y + 24.0)) text-anchor="middle" { (short(&nb.label)) }
                    text x=(fmt(*x)) y=(fmt(y + 38.0)) text-anchor="middle" { (nb.type_name) }
                }
            }
            g.center {
                circle cx=(fmt(cx)) cy=(fmt(cy)) r="14" {}
                text x=(fmt(cx)) y=(fmt(cy + 32.0)) text-anchor="middle" font-weight="bold" { (short(center)) }
                text x=(fmt(cx)) y=(fmt(cy + 46.0)) text-anchor="middle" { (center_type) }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bounded() {
        let nb = Neighbour {
            label: "<script>alert(1)</script>".into(),
            type_name: "malware".into(),
            href: "/ui/c/x/o/malware--1".into(),
            edge: "uses →".into(),
        };
        let out = svg("center & co", "indicator", &vec![nb; MAX_NODES + 5]).into_string();
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("center &amp; co"));
        assert_eq!(out.matches("<circle").count(), MAX_NODES + 1);
        assert!(svg("x", "y", &[]).into_string().is_empty());
    }
}
