mod export;
mod get;

pub use export::{export_csv, export_jsonl};
pub use get::audit_list;

use time::{Date, OffsetDateTime, macros::format_description};

use crate::{audit::AuditFilter, error::PageError, pages::admin::audit::AuditQuery};

/// The form's text fields as a filter. Dates are whole UTC days; `to` is
/// inclusive, as people read it.
pub fn filter_from(q: &AuditQuery) -> Result<AuditFilter, PageError> {
    let day = |s: &str, name: &str| -> Result<Option<Date>, PageError> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        let refused = || PageError::BadRequest(format!("“{name}” must be a date like 2026-11-25."));
        let d = Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).map_err(|_| refused())?;
        // `time` parses years Postgres cannot store (before 4713 BC: the
        // query would fail), and 9999-12-31 has no next day to end `to` at.
        // Nobody means a year outside these.
        if !(1..=9999).contains(&d.year()) {
            return Err(PageError::BadRequest(format!("“{name}” must be a date between 0001-01-01 and 9999-12-31.")));
        }
        Ok(Some(d))
    };
    // Postgres text cannot hold NUL (a query binding one fails), and no
    // actor, action or subject holds a control character.
    let text = |s: &str, name: &str| -> Result<Option<String>, PageError> {
        if s.chars().any(char::is_control) {
            return Err(PageError::BadRequest(format!("“{name}” cannot contain control characters.")));
        }
        Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
    };
    let start = |d: Date| -> OffsetDateTime { d.midnight().assume_utc() };
    Ok(AuditFilter {
        from: day(&q.from, "From")?.map(start),
        // Up to the next midnight; after the calendar's last day nothing
        // comes, so that day has no upper bound.
        to: day(&q.to, "To")?.and_then(Date::next_day).map(start),
        actor: text(&q.actor, "Actor")?.map(|a| a.to_lowercase()),
        action: text(&q.action, "Action")?,
        subject: text(&q.subject, "Subject")?,
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

    #[test]
    fn dates_outside_the_calendar_are_refused_not_overflowed() {
        let last =
            filter_from(&AuditQuery { from: "9999-12-31".into(), to: "9999-12-31".into(), ..Default::default() });
        let last = last.unwrap();
        assert_eq!(last.from.unwrap().date().to_string(), "9999-12-31");
        assert!(last.to.is_none(), "nothing comes after the calendar's last day");
        let first =
            filter_from(&AuditQuery { from: "0001-01-01".into(), to: "0001-01-01".into(), ..Default::default() });
        assert_eq!(first.unwrap().to.unwrap().date().to_string(), "0001-01-02");
        for bad in
            ["10000-01-01", "+10000-01-01", "-9999-01-01", "0000-01-01", "-0001-12-31", "2026-02-30", "9999-12-32"]
        {
            for q in [
                AuditQuery { from: bad.into(), ..Default::default() },
                AuditQuery { to: bad.into(), ..Default::default() },
            ] {
                assert!(matches!(filter_from(&q), Err(PageError::BadRequest(_))), "{bad}");
            }
        }
        for bad in ["a\u{0}", "\u{0}", "x\ny"] {
            for q in [
                AuditQuery { actor: bad.into(), ..Default::default() },
                AuditQuery { action: bad.into(), ..Default::default() },
                AuditQuery { subject: bad.into(), ..Default::default() },
            ] {
                assert!(matches!(filter_from(&q), Err(PageError::BadRequest(_))), "{bad:?}");
            }
        }
    }
}
