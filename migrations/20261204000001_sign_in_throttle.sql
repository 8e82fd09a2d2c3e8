-- Sign-in throttling that an attacker cannot turn into a lockout (see
-- app/src/auth/throttle.rs). Attempts are counted per key before the
-- password is checked, under a row lock, so concurrent attempts cannot
-- pass the limit: per account and per client address for unknown
-- devices, per device for a browser that has signed in to the account.
CREATE TABLE login_throttle (
    scope         text NOT NULL CHECK (scope IN ('account', 'address', 'device')),
    key           text NOT NULL CHECK (length(key) <= 320),
    window_start  timestamptz NOT NULL,
    attempts      integer NOT NULL,
    -- Each time the limit is passed the next block lasts twice as long.
    strikes       integer NOT NULL DEFAULT 0,
    blocked_until timestamptz,
    PRIMARY KEY (scope, key)
);

-- OWASP's device cookies: a browser that signed in to an account gets a
-- random token (only its SHA-256 is stored); with it, the owner is not
-- subject to the account's and the address's limits for unknown devices.
CREATE TABLE known_devices (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX known_devices_user ON known_devices (user_id);

-- Failed and refused sign-ins, summed per account, address and window;
-- when the window closes, one audit row carries the counts and the row
-- goes. '*' stands for "any" where a refusal was by the other key.
CREATE TABLE login_failure_windows (
    email        text NOT NULL CHECK (length(email) <= 320),
    client_addr  text NOT NULL CHECK (length(client_addr) <= 100),
    window_start timestamptz NOT NULL,
    failures     integer NOT NULL DEFAULT 0,
    refused      integer NOT NULL DEFAULT 0,
    reasons      jsonb NOT NULL DEFAULT '{}',
    first_at     timestamptz NOT NULL DEFAULT now(),
    last_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, client_addr, window_start)
);
CREATE INDEX login_failure_windows_start ON login_failure_windows (window_start);

DROP TABLE login_failures;
