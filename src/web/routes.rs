//! The route list the router is built from: each route with its method,
//! path and [`Access`] rule. The router has no route that is not in this
//! list (`web::router` folds it), the guard checks a request's rule before
//! the handler runs, and `tests/staff_roles.rs` walks every entry for
//! every role, so a route without a rule cannot be added quietly.

use std::sync::OnceLock;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use super::AppState;
use super::audit_trail::Trail;
use super::auth::{self, Staff};
use super::error::ApiError;
use super::policy::Access;

/// One route of the HTTP surface (telephony aside).
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

/// A route's rule without its handler: what the guard and the tests read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

impl Route {
    pub fn get<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method: Method::GET,
            path,
            access,
            handler: axum::routing::get(handler),
        }
    }

    pub fn post<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method: Method::POST,
            path,
            access,
            handler: axum::routing::post(handler),
        }
    }

    pub fn put<H, T>(path: &'static str, access: Access, handler: H) -> Route
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            method: Method::PUT,
            path,
            access,
            handler: axum::routing::put(handler),
        }
    }

    pub fn rule(&self) -> Rule {
        Rule {
            method: self.method.clone(),
            path: self.path,
            access: self.access,
        }
    }
}

/// A router of these routes (state not yet given). Without [`guard`] the
/// `Staff` extractor still checks each route's rule.
pub fn router_of(routes: Vec<Route>) -> axum::Router<AppState> {
    routes
        .into_iter()
        .fold(axum::Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
}

/// Every route's rule, from `web::api_routes` (built once).
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| super::api_routes().iter().map(Route::rule).collect())
}

/// The rule of a method on a route path (`HEAD` is `GET`'s).
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

/// The staff member a request is admitted as under `access`: 401 without a
/// valid token, 429 after too many failed sign-ins from the client's
/// address, 403 when the role is not admitted.
pub async fn admit(state: &AppState, parts: &Parts, access: Access) -> Result<Staff, ApiError> {
    let client = state.client.of(parts);
    let staff = auth::authenticate(state, &parts.method, &parts.headers, client).await?;
    if !access.admits(staff.role) {
        forbidden(&staff, parts);
        return Err(ApiError::Forbidden);
    }
    Ok(staff)
}

fn forbidden(staff: &Staff, parts: &Parts) {
    tracing::info!(staff_id = %staff.id, path = ?parts.extensions.get::<MatchedPath>().map(MatchedPath::as_str), "forbidden");
}

/// Middleware on every route: checks the route's rule before its handler
/// runs, hands the handler the admitted staff member, and writes the
/// request's access audit entry once the response is known
/// (`audit_trail`), a refusal by the rule included.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some((path, access)) =
        path.and_then(|p| rule_for(&parts.method, &p).map(|access| (p, access)))
    else {
        // A method the path does not have: the router answers 405.
        return next.run(Request::from_parts(parts, body)).await;
    };
    if access == Access::Public {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let client = state.client.of(&parts);
    let staff = match auth::authenticate(&state, &parts.method, &parts.headers, client).await {
        Ok(staff) => staff,
        Err(refusal) => return refusal.into_response(),
    };
    let trail = Trail::begin(&state, &mut parts, &path, &staff, client).await;
    if !access.admits(staff.role) {
        forbidden(&staff, &parts);
        return trail
            .finish(&state, ApiError::Forbidden.into_response())
            .await;
    }
    parts.extensions.insert(staff);
    parts.extensions.insert(trail.note());
    let response = next.run(Request::from_parts(parts, body)).await;
    trail.finish(&state, response).await
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        // Not through the guard (a module's own router): the same check here.
        let path = parts
            .extensions
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned());
        let Some(access) = path.and_then(|p| rule_for(&parts.method, &p)) else {
            return Err(ApiError::Forbidden);
        };
        admit(state, parts, access).await
    }
}
