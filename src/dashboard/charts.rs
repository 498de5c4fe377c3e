//! Small charts drawn on the server as inline SVG: no chart library, no
//! script, nothing fetched. Each chart says its numbers in text too (its
//! `aria-label` and the values beside the bars), for screen readers and
//! for anyone who would rather read.

use maud::{Markup, html};

/// Horizontal bars, one per `(label, value)`.
pub fn bars(title: &str, rows: &[(String, i64)]) -> Markup {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row_height = 22;
    let height = (rows.len().max(1) * row_height) as i64 + 6;
    let summary = rows
        .iter()
        .map(|(l, v)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        figure class="chart" {
            figcaption { (title) }
            svg viewBox={ "0 0 320 " (height) } role="img" aria-label={ (title) ": " (summary) } {
                @if rows.is_empty() {
                    text x="4" y="16" font-size="12" fill="#5a6b7d" { "none" }
                }
                @for (i, (label, value)) in rows.iter().enumerate() {
                    @let y = (i * row_height) as i64 + 3;
                    @let width = value * 170 / max;
                    text x="0" y=(y + 14) font-size="12" fill="#1c2430" { (label) }
                    rect x="110" y=(y + 3) width=(width.max(1)) height="14" fill="#2f5a88" rx="2" {}
                    text x=(114 + width) y=(y + 14) font-size="12" fill="#1c2430" { (value) }
                }
            }
        }
    }
}

/// Vertical bars per day: all calls, with the contained part drawn over
/// them in another colour.
pub fn days(title: &str, days: &[(String, i64, i64)]) -> Markup {
    let max = days.iter().map(|(_, c, _)| *c).max().unwrap_or(0).max(1);
    let width = 320;
    let plot = 100;
    let slot = width / (days.len().max(1) as i64);
    let summary = days
        .iter()
        .map(|(d, c, k)| format!("{d}: {c} calls, {k} without staff"))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="chart" {
            figcaption { (title) " (dark: handled without staff)" }
            svg viewBox={ "0 0 " (width) " " (plot + 34) } role="img" aria-label={ (title) ": " (summary) } {
                @for (i, (label, calls, contained)) in days.iter().enumerate() {
                    @let x = i as i64 * slot + 6;
                    @let h = calls * plot / max;
                    @let hk = contained * plot / max;
                    rect x=(x) y=(plot - h + 14) width=(slot - 12) height=(h) fill="#9fb6d0" {}
                    rect x=(x) y=(plot - hk + 14) width=(slot - 12) height=(hk) fill="#1f3a5a" {}
                    text x=(x) y="12" font-size="11" fill="#1c2430" { (calls) }
                    text x=(x) y=(plot + 28) font-size="11" fill="#1c2430" { (label) }
                }
            }
        }
    }
}
