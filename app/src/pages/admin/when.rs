//! How the admin pages write a moment: RFC 3339, in UTC as stored.

pub fn when(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
