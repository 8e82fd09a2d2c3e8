-- Staff accounts and their sessions. Stakeholders never get an account.
CREATE TABLE users (
    id                   uuid PRIMARY KEY,
    email                text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    role                 text NOT NULL CHECK (role IN ('admin', 'support')),
    password_hash        text NOT NULL,                -- argon2id PHC string
    must_change_password boolean NOT NULL DEFAULT true, -- a one-time password is in force
    disabled_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- The cookie carries a random token; only its SHA-256 is stored, so a copy
-- of this table cannot be replayed as cookies.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    client_addr  text NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, for throttling per account and per client address.
CREATE TABLE login_failures (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL,
    client_addr text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);

-- The tamper-evident audit trail: each row's hash covers the previous row's
-- hash and this row's canonical form (see app/src/audit/chain.rs).
CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,
    subject     text NOT NULL,
    details     jsonb NOT NULL,
    client_addr text NOT NULL,
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL UNIQUE
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_action ON audit_events (action);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
