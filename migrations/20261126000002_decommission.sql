-- The decommissioning procedure (issue 6). One decommission at a time may be
-- under way or finished; a halted one (a stakeholder rejected it) makes room
-- for a new request. Steps are the names of DecommissionStep in
-- app/src/decommission/step.rs.
CREATE TABLE decommissions (
    id               uuid PRIMARY KEY,
    step             text NOT NULL CHECK (step IN ('approval', 'halted', 'plan', 'plan_approval', 'archive',
                                                   'handover', 'destroy', 'notify', 'review', 'closed')),
    opened_by        text NOT NULL,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    point_of_contact text NOT NULL,
    reason           text NOT NULL,
    reason_pdf       bytea,
    reason_pdf_name  text,
    halted_reason    text,
    plan             jsonb,
    plan_comment     text,             -- the representative's comment on the last plan decision
    archive_state    text NOT NULL DEFAULT 'none' CHECK (archive_state IN ('none', 'running', 'ready', 'failed')),
    archive_progress text NOT NULL DEFAULT '',
    archive_heartbeat timestamptz,     -- the build's last sign of life; a stale one may be restarted
    archive_file     text,
    archive_sha256   text,
    archive_bytes    bigint,
    audit_head       text,             -- the audit chain head recorded in the archive's manifest
    receipt_name     text,
    receipt_at       timestamptz,
    receipt_addr     text,
    receipt_sha256   text,
    destroyed_at     timestamptz,
    destroy_report   jsonb,
    review           text,
    closed_at        timestamptz
);
CREATE UNIQUE INDEX decommissions_one_at_a_time ON decommissions ((true)) WHERE step <> 'halted';

CREATE TABLE stakeholders (
    id              uuid PRIMARY KEY,
    decommission_id uuid NOT NULL REFERENCES decommissions (id),
    position        int NOT NULL,
    name            text NOT NULL,
    email           text NOT NULL,
    role            text NOT NULL CHECK (role IN ('representative', 'management', 'user')),
    UNIQUE (decommission_id, email)
);

-- Every decision a stakeholder made through a link.
CREATE TABLE stakeholder_decisions (
    id             bigserial PRIMARY KEY,
    stakeholder_id uuid NOT NULL REFERENCES stakeholders (id),
    step           text NOT NULL,
    decision       text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    comment        text NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    client_addr    text NOT NULL
);

-- Links in mail carry a 256-bit random token; only its SHA-256 is stored.
-- A token is bound to one stakeholder and one step, expires, is used once,
-- and ends when a newer link for the same stakeholder and step is sent.
CREATE TABLE approval_tokens (
    token_hash      bytea PRIMARY KEY,
    decommission_id uuid NOT NULL REFERENCES decommissions (id),
    stakeholder_id  uuid NOT NULL REFERENCES stakeholders (id),
    step            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    ended_at        timestamptz
);
CREATE INDEX approval_tokens_stakeholder ON approval_tokens (stakeholder_id, step);

-- Every message Easel sent: to whom, when, for which step, its Message-ID.
CREATE TABLE outbound_mail (
    id              bigserial PRIMARY KEY,
    decommission_id uuid REFERENCES decommissions (id),
    stakeholder_id  uuid REFERENCES stakeholders (id),
    to_addr         text NOT NULL,
    subject         text NOT NULL,
    step            text NOT NULL,
    message_id      text NOT NULL,
    sent_at         timestamptz NOT NULL DEFAULT now()
);

-- One row. An upload holds it FOR SHARE until its object is stored and its
-- row committed; freezing takes it FOR UPDATE, so once the freeze commits no
-- upload is half-way and the archive sees every artwork.
CREATE TABLE upload_gate (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    frozen_at  timestamptz,
    frozen_by  uuid REFERENCES decommissions (id),
    closed     boolean NOT NULL DEFAULT false
);
INSERT INTO upload_gate DEFAULT VALUES;
