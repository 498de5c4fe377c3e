//! Signing in and out. `GET /` is the sign-in page; `POST /session` takes a
//! staff token (`frontdesk staff add`) from the form and answers with the
//! session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind HTTPS);
//! `POST /session/end` signs out; both are in the access audit
//! (`sign_in`, `sign_out`). The session lives in the database
//! (`staff::sessions`). The sign-in form carries a token of its own (the
//! same value in a short-lived cookie and in the form), so another site
//! cannot sign a browser in to an account of its choosing.

use axum::extract::{Query, State};
use axum::http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use super::CookiePolicy;
use super::page::{PageError, Viewer, bare};
use super::trail;
use crate::audit::Action;
use crate::staff::{self, sessions};
use crate::web::AppState;
use crate::web::auth::{self, SESSION_COOKIE};
use crate::web::policy::Access;
use crate::web::routes::Route;

/// The sign-in form's own token (double-submit).
const SIGNIN_COOKIE: &str = "frontdesk_signin";

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/", Access::Public, sign_in_page),
        Route::post("/session", Access::Public, sign_in),
        Route::post("/session/end", Access::AnyStaff, sign_out),
    ]
}

fn cookie(name: &str, value: &str, policy: CookiePolicy, max_age: Option<i64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if policy.secure {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&text).expect("cookie text is ASCII")
}

#[derive(Deserialize)]
struct PageParams {
    expired: Option<String>,
    failed: Option<String>,
}

async fn sign_in_page(
    State(state): State<AppState>,
    Extension(policy): Extension<CookiePolicy>,
    headers: HeaderMap,
    Query(params): Query<PageParams>,
) -> Result<Response, PageError> {
    if auth::session_staff(&state, &headers).await.is_ok() {
        return Ok(Redirect::to("/queue").into_response());
    }
    let form_token = staff::new_token()?;
    let message = if params.expired.is_some() {
        Some("Your session ended after a while without use. Sign in again.")
    } else if params.failed.is_some() {
        Some("That token was not accepted. Check it and try again.")
    } else {
        None
    };
    let body = bare(
        "Sign in",
        html! {
            main id="main" class="signin" {
                h1 { "Sign in" }
                @if let Some(m) = message {
                    p class="status shown" role="alert" { (m) }
                }
                form method="post" action="/session" {
                    input type="hidden" name="form_token" value=(form_token);
                    label for="token" { "Staff token" }
                    input id="token" name="token" type="password" autocomplete="current-password" required autofocus;
                    button type="submit" { "Sign in" }
                }
                p class="hint" {
                    "Your token comes from whoever runs frontdesk ("
                    code { "frontdesk staff add NAME --role ROLE" } ")."
                }
            }
        },
    );
    let mut response = body.into_response();
    response.headers_mut().append(
        SET_COOKIE,
        cookie(SIGNIN_COOKIE, &form_token, policy, Some(3600)),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
    #[serde(default)]
    form_token: String,
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(policy): Extension<CookiePolicy>,
    peer: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let expected = auth::cookie(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if expected.is_empty()
        || !staff::hashes_match(
            &staff::token_hash(expected),
            &staff::token_hash(&form.form_token),
        )
    {
        tracing::info!("sign-in form without its form token");
        return Err(PageError::Forbidden);
    }
    // Through the API's sign-in limiter: failures count, and an address
    // over its limit gets 429 here as on the API.
    let client = state
        .client
        .from(peer.map(|Extension(info)| info.0.ip()), &headers);
    let member = match auth::sign_in(&state, form.token.trim(), client).await {
        Ok(member) => member,
        Err(crate::web::error::ApiError::Unauthorized) => {
            tracing::info!("dashboard sign-in refused: unknown token");
            return Ok(Redirect::to("/?failed=1").into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let (value, _) = sessions::create(&state.db, &member.id, state.clock.now()).await?;
    trail::session(&state, &member, client, Action::SignIn, None).await?;
    tracing::info!(staff_id = %member.id, role = %member.role, "dashboard sign-in");
    let mut response = Redirect::to("/queue").into_response();
    let headers = response.headers_mut();
    headers.append(SET_COOKIE, cookie(SESSION_COOKIE, &value, policy, None));
    headers.append(SET_COOKIE, cookie(SIGNIN_COOKIE, "", policy, Some(0)));
    Ok(response)
}

#[derive(Deserialize)]
struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(policy): Extension<CookiePolicy>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Result<Response, PageError> {
    if !staff::hashes_match(
        &staff::token_hash(&viewer.csrf),
        &staff::token_hash(&form.csrf),
    ) {
        return Err(PageError::Forbidden);
    }
    if let Some(value) = auth::cookie(&headers, SESSION_COOKIE) {
        sessions::end(&state.db, value).await?;
    }
    trail::session(&state, &viewer.staff, viewer.client, Action::SignOut, None).await?;
    tracing::info!(staff_id = %viewer.staff.id, "dashboard sign-out");
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, cookie(SESSION_COOKIE, "", policy, Some(0)));
    Ok(response)
}
