-- An upload under way: registered, with the upload gate held, before its
-- original is put; removed in the transaction that writes its row. A freeze
-- takes the gate, so no upload starts after it, and the archive then waits
-- until every upload under way has finished (app/src/artworks/in_flight.rs).
-- So no upload holds a database connection across its S3 put, and the
-- archive still sees every artwork whole.
CREATE TABLE uploads_in_flight (
    original_key text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now()
);
