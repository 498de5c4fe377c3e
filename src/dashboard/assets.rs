//! The dashboard's stylesheet and script, compiled into the binary
//! (`include_str!`): nothing is fetched from outside the clinic, and the
//! server needs no files beside itself.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::web::policy::Access;
use crate::web::routes::Route;

pub const CSS_PATH: &str = "/assets/app.css";
pub const JS_PATH: &str = "/assets/app.js";

const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");

pub fn routes() -> Vec<Route> {
    vec![Route::get("/assets/{name}", Access::Public, asset)]
}

async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body) = match name.as_str() {
        "app.css" => ("text/css; charset=utf-8", CSS),
        "app.js" => ("text/javascript; charset=utf-8", JS),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    // Revalidated each load: a new binary's assets are never stale.
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "no-cache")], body).into_response()
}
