-- Least privilege: the console connects as a role that may change the data
-- but not the schema, and may only add to and read the audit trail. It is a
-- member of `easel_app` (made here, NOLOGIN); its login role is made by
-- `cargo ops up` locally, or by the operator on RDS (see the README). The
-- owner, who runs these migrations, owns every table, so only the owner can
-- disable the append-only triggers; the console's credentials cannot.
DO $$
BEGIN
    CREATE ROLE easel_app NOLOGIN;
EXCEPTION
    -- Another database of the same server made it first (roles are per server).
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO easel_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO easel_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO easel_app;
-- Tables made by later migrations get the same; an append-only one must
-- revoke UPDATE and DELETE in its own migration, as below.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO easel_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO easel_app;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM easel_app;
-- The console reads which migrations ran (and refuses to start on an older schema).
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM easel_app;
