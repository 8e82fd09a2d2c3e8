mod export;
mod get;

pub use export::{export_csv, export_jsonl};
pub use get::audit_list;

use time::{Date, OffsetDateTime, macros::format_description};

use crate::{audit::AuditFilter, error::PageError, pages::admin::audit::AuditQuery};

/// The form's text fields as a filter. Dates are whole UTC days; `to` is
/// inclusive, as people read it.
pub fn filter_from(q: &AuditQuery) -> Result<AuditFilter, PageError> {
    let day = |s: &str, name: &str| -> Result<Option<OffsetDateTime>, PageError> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
            .map(|d| Some(d.midnight().assume_utc()))
            .map_err(|_| PageError::BadRequest(format!("“{name}” must be a date like 2026-11-25.")))
    };
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(AuditFilter {
        from: day(&q.from, "From")?,
        to: day(&q.to, "To")?.map(|d| d + time::Duration::days(1)),
        actor: text(&q.actor).map(|a| a.to_lowercase()),
        action: text(&q.action),
        subject: text(&q.subject),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_blanks_become_a_filter() {
        let q = AuditQuery {
            from: "2026-11-01".into(),
            to: "2026-11-25".into(),
            actor: " Ada@X.org ".into(),
            ..Default::default()
        };
        let f = filter_from(&q).unwrap();
        assert_eq!(f.from.unwrap().date().to_string(), "2026-11-01");
        assert_eq!(f.to.unwrap().date().to_string(), "2026-11-26");
        assert_eq!(f.actor.as_deref(), Some("ada@x.org"));
        assert!(f.action.is_none() && f.subject.is_none());
        assert!(matches!(
            filter_from(&AuditQuery { from: "25/11/2026".into(), ..Default::default() }),
            Err(PageError::BadRequest(_))
        ));
    }
}
