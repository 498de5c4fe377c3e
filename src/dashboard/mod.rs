//! The staff dashboard in the browser, served by `frontdesk serve` itself:
//! sign-in (`session`), the live task queue (`queue`, `card`), the
//! manager's calls and numbers (`calls`, `numbers`, `charts`), the day's
//! schedule (`schedule`). Pages are rendered on the server (maud, compiled
//! into the binary) with a little plain JavaScript (`assets`, embedded):
//! no build step, nothing fetched from outside the clinic.
//!
//! Pages are routes like the API's (`web::routes::Route`), each with its
//! `policy::Access` rule; [`Viewer`] checks it and answers a person, not a
//! program: the sign-in page for no session, a 403 page for no rights.
//! Every action the pages take goes through the staff API itself (the
//! session cookie is accepted there, with the CSRF token in a header), so
//! the rules of who may do what live in `web::policy` alone. What a page
//! reads of patient data is in the access audit (`trail`), as the API's
//! reads are.

pub mod access_audit;
pub mod assets;
pub mod calls;
pub mod card;
pub mod charts;
pub mod labels;
pub mod numbers;
pub mod page;
pub mod queue;
pub mod schedule;
pub mod session;
pub mod trail;

use std::sync::OnceLock;

use axum::Extension;
use axum::http::Method;

use crate::web::AppState;
use crate::web::policy::Access;
use crate::web::routes::{Route, Rule, router_of};

pub use page::Viewer;

/// How the dashboard's cookies are set.
#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    /// `Secure`: the server is reached over HTTPS (its public URL is
    /// `https://`), so the browser must never send the cookie in the clear.
    pub secure: bool,
}

impl CookiePolicy {
    /// `Secure` exactly when the public URL is HTTPS.
    pub fn for_public_url(public_url: Option<&str>) -> CookiePolicy {
        CookiePolicy {
            secure: public_url
                .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://")),
        }
    }
}

/// Every page and form of the dashboard, each with its access rule.
pub fn routes() -> Vec<Route> {
    [
        session::routes(),
        assets::routes(),
        queue::routes(),
        calls::routes(),
        access_audit::routes(),
        schedule::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The dashboard's rules (built once): what [`Viewer`] checks and the
/// route table test walks.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| routes().iter().map(Route::rule).collect())
}

/// The rule of a method on a dashboard path (`HEAD` is `GET`'s).
pub fn rule_for(method: &Method, path: &str) -> Option<Access> {
    let method = if *method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    rules()
        .iter()
        .find(|r| r.path == path && r.method == *method)
        .map(|r| r.access)
}

/// The dashboard's router, its state given.
pub fn router(state: AppState, cookies: CookiePolicy) -> axum::Router {
    router_of(routes())
        .layer(Extension(cookies))
        .with_state(state)
}
