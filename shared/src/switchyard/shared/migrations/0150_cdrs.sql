-- call-control: call detail records, one per channel, from its
-- CHANNEL_HANGUP_COMPLETE (docs/console.md). call-control writes this table;
-- rows older than SWITCHYARD_CDR_RETENTION_DAYS are deleted.

CREATE TABLE cdrs (
    id bigserial PRIMARY KEY,
    -- The channel's Unique-ID: a redelivered event is known.
    uuid text NOT NULL UNIQUE,
    node text NOT NULL DEFAULT '',
    direction text NOT NULL DEFAULT '',
    caller_number text NOT NULL DEFAULT '',
    caller_name text NOT NULL DEFAULT '',
    destination text NOT NULL DEFAULT '',
    context text NOT NULL DEFAULT '',
    -- The leg bridged to this one (its own row), when there was one.
    other_leg text NOT NULL DEFAULT '',
    started_at timestamptz NOT NULL,
    answered_at timestamptz,
    ended_at timestamptz NOT NULL,
    -- Seconds from start to end, and from answer to end (0 unanswered).
    duration integer NOT NULL DEFAULT 0,
    billsec integer NOT NULL DEFAULT 0,
    hangup_cause text NOT NULL DEFAULT '',
    recording text NOT NULL DEFAULT ''
);
CREATE INDEX cdrs_ended ON cdrs (ended_at);
CREATE INDEX cdrs_caller ON cdrs (caller_number);
CREATE INDEX cdrs_destination ON cdrs (destination);
