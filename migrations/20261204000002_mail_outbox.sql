-- outbound_mail becomes the outbox (app/src/outbox.rs): a message is written
-- in the same transaction as the state change that causes it, and the
-- console's sender delivers it with retries. Rows written before this were
-- sent when written.
ALTER TABLE outbound_mail
    ADD COLUMN to_name         text NOT NULL DEFAULT '',
    -- Kept until the message is sent, then erased: a link's token is stored
    -- only hashed everywhere else.
    ADD COLUMN body            text,
    ADD COLUMN status          text NOT NULL DEFAULT 'sent'
        CHECK (status IN ('queued', 'failing', 'sent', 'given_up')),
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error      text,
    ADD COLUMN queued_at       timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A sender that claimed the message; past this, another may.
    ADD COLUMN lease_until     timestamptz;
ALTER TABLE outbound_mail ALTER COLUMN sent_at DROP NOT NULL, ALTER COLUMN sent_at DROP DEFAULT;
CREATE INDEX outbound_mail_due ON outbound_mail (next_attempt_at) WHERE status IN ('queued', 'failing');
