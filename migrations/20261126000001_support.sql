-- Restores of the resized bucket from the backup bucket. The plan is stored
-- item by item, so a restore interrupted half-way resumes where it stopped.
CREATE TABLE restore_runs (
    id           uuid PRIMARY KEY,
    started_by   text NOT NULL,                  -- the audit actor's name
    started_role text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(), -- a running copier touches it; stale means interrupted
    finished_at  timestamptz,
    planned      integer NOT NULL CHECK (planned >= 0)
);

CREATE TABLE restore_items (
    run_id  uuid NOT NULL REFERENCES restore_runs (id),
    key     text NOT NULL,
    bytes   bigint NOT NULL,
    reason  text NOT NULL CHECK (reason IN ('missing', 'differing')),
    done_at timestamptz,
    error   text,                                -- the last failure, if any
    PRIMARY KEY (run_id, key)
);
CREATE INDEX restore_items_pending ON restore_items (run_id, key) WHERE done_at IS NULL;
