//! Helpers for the crate's unit tests; imports nothing of the crate, so
//! any module's tests may use it without an import cycle.

/// The words the database holds for a value of a stored enum: what its
/// `sqlx::Type` derive writes, for tests that hold them to `as_str`.
pub(crate) fn stored_as<T: for<'q> sqlx::Encode<'q, sqlx::Postgres>>(value: &T) -> String {
    let mut buf = sqlx::postgres::PgArgumentBuffer::default();
    let null = value.encode_by_ref(&mut buf).expect("a stored enum encodes");
    assert!(matches!(null, sqlx::encode::IsNull::No), "a stored enum is never NULL");
    String::from_utf8(buf.to_vec()).expect("a stored enum is text")
}
