//! What the console's pages see of a decommission: the banner on every
//! admin page, and the decommission gate (`gate`) in front of every route
//! that changes something. The router groups routes by what they change
//! (`router.rs`): a route added to the default group is frozen with the
//! data without anyone remembering to list it.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::Method;

use crate::{
    auth::Session,
    decommission::{procedure, repo},
    error::PageError,
    gate::{self, Change},
    state::AppState,
};

/// Runs inside `require_staff`, on every signed-in route: the banner.
pub async fn decommission_banner(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let step = match repo::current(&state.pool).await {
        Ok(current) => current.map(|d| d.step),
        Err(e) => return PageError::from(e).into_response(),
    };
    let banner = step.map(procedure::banner);
    if let Some(session) = req.extensions_mut().get_mut::<Session>() {
        session.decommission_banner = banner;
    }
    next.run(req).await
}

/// In front of a group of routes that make `change`: every request that
/// may change something (any method but GET and HEAD) asks the gate first.
/// The operations behind them ask again, for their other callers.
pub async fn gated(State((state, change)): State<(AppState, Change)>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD)
        && let Err(e) = gate::check(&state.pool, change).await
    {
        return PageError::from(e).into_response();
    }
    next.run(req).await
}
