//! The trail as files: CSV for people, JSON Lines for programs. Both end
//! with the chain's head hash, and carry it in `X-Audit-Chain-Head`, so a
//! copy can later be checked against the live trail.

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, header};

use super::filter_from;
use crate::{
    audit::{self, EventRow},
    error::PageError,
    pages::admin::audit::AuditQuery,
    state::AppState,
};

async fn rows(
    state: &AppState,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<(Vec<EventRow>, String), PageError> {
    let Query(q) = query.map_err(|_| PageError::BadRequest("That audit filter is not valid.".into()))?;
    let rows = audit::rows_for_export(&state.pool, &filter_from(&q)?).await?;
    let head = audit::head_hash(&state.pool).await?.map(hex::encode).unwrap_or_default();
    Ok((rows, head))
}

fn attachment(content_type: &'static str, filename: &'static str, head: &str, body: Vec<u8>) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(filename));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(head) {
        h.insert("x-audit-chain-head", v);
    }
    res
}

pub async fn export_csv(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let (rows, head) = rows(&state, query).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| PageError::Unexpected(e.into());
    w.write_record(["id", "at", "actor", "role", "action", "subject", "details", "client_addr", "prev_hash", "hash"])
        .map_err(csv_err)?;
    for r in &rows {
        let at = r.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        w.write_record([
            r.id.to_string(),
            at,
            r.actor.clone(),
            r.role.clone(),
            r.action.clone(),
            r.subject.clone(),
            r.details.0.to_string(),
            r.client_addr.clone(),
            hex::encode(&r.prev_hash),
            hex::encode(&r.hash),
        ])
        .map_err(csv_err)?;
    }
    // The last record names the head of the whole chain (not just of
    // the filtered rows), in the hash column.
    w.write_record(["chain_head", "", "", "", "", "", "", "", "", head.as_str()]).map_err(csv_err)?;
    let body = w.into_inner().map_err(|e| PageError::Unexpected(anyhow::anyhow!("{e}")))?;
    Ok(attachment("text/csv; charset=utf-8", "attachment; filename=\"easel-audit.csv\"", &head, body))
}

pub async fn export_jsonl(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let (rows, head) = rows(&state, query).await?;
    let mut body = Vec::new();
    for r in &rows {
        serde_json::to_writer(&mut body, r).map_err(|e| PageError::Unexpected(e.into()))?;
        body.push(b'\n');
    }
    serde_json::to_writer(&mut body, &serde_json::json!({ "chain_head": head }))
        .map_err(|e| PageError::Unexpected(e.into()))?;
    body.push(b'\n');
    Ok(attachment("application/jsonl; charset=utf-8", "attachment; filename=\"easel-audit.jsonl\"", &head, body))
}
