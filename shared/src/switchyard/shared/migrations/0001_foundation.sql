-- Foundation: people and machines that may call the API, and what they changed.
-- Written by the shared HTTP layer of whichever service handles the request
-- (docs/data.md); read by config-api for /api/logs.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    name          text NOT NULL DEFAULT '',
    extn          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    is_super      boolean NOT NULL DEFAULT false,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Both login sessions (kind 'session', expiring) and machine tokens
-- (kind 'api', from `switchyard token create`). Only a SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('session', 'api')),
    name        text NOT NULL DEFAULT '',
    user_id     bigint REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    last_used_at timestamptz
);

CREATE TABLE operation_logs (
    id          bigserial PRIMARY KEY,
    operator    text NOT NULL,
    ip          text NOT NULL DEFAULT '',
    resource    text NOT NULL,
    action      text NOT NULL,
    method      text NOT NULL,
    path        text NOT NULL,
    status      integer NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operation_logs_created_at ON operation_logs (created_at DESC);
CREATE INDEX operation_logs_resource ON operation_logs (resource, created_at DESC);
