-- event-relay: webhook subscriptions, the events they are owed, every
-- delivery attempt (docs/event-relay.md). event-relay writes these tables.

CREATE TABLE webhooks (
    id bigserial PRIMARY KEY,
    url text NOT NULL,
    -- FreeSWITCH event names, CUSTOM subclasses, '*', or webhook.* operational events.
    events text[] NOT NULL,
    format text NOT NULL DEFAULT 'xswitch' CHECK (format IN ('xswitch', 'raw')),
    description text NOT NULL DEFAULT '',
    enabled boolean NOT NULL DEFAULT true,
    -- Filters (empty: any): regexes matched in full, Answer-State values.
    filter_node text NOT NULL DEFAULT '',
    filter_caller text NOT NULL DEFAULT '',
    filter_callee text NOT NULL DEFAULT '',
    filter_answer_states text[] NOT NULL DEFAULT '{}',
    secret text NOT NULL DEFAULT '',
    -- After a rotation the previous secret signs beside the new one until then.
    previous_secret text NOT NULL DEFAULT '',
    previous_secret_until timestamptz,
    -- The SWITCHYARD_POST_EVENT_URL target: kept by the relay, read-only to the API.
    system boolean NOT NULL DEFAULT false,
    disabled_reason text NOT NULL DEFAULT '',
    failing_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhooks_one_system ON webhooks (system) WHERE system;

-- One row per event the relay took from the stream (or made: webhook.*).
CREATE TABLE webhook_events (
    id bigserial PRIMARY KEY,
    -- Nats-Msg-Id (<Core-UUID>:<Event-Sequence>): a redelivered event is known.
    msg_id text NOT NULL UNIQUE,
    node text NOT NULL DEFAULT '',
    payload bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);

-- What one subscription is owed of one event, in the order of its lane
-- (the call, or the event alone): pending, then delivered or failed.
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- The Standard Webhooks webhook-id, the same on every retry and replay.
    message_id text NOT NULL,
    -- '' the event as received; 'ai' the ai::channel-state made from it.
    kind text NOT NULL DEFAULT '',
    event_name text NOT NULL,
    lane text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- The dispatcher holding it in memory (a leader's run id); a pending row
    -- owned by no live one is adopted by the next leader.
    owner text
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, lane, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending_id ON webhook_deliveries (id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id bigserial PRIMARY KEY,
    webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    -- HTTP status, 0 when no response came.
    status_code integer NOT NULL DEFAULT 0,
    ok boolean NOT NULL,
    latency_ms real NOT NULL DEFAULT 0,
    response text NOT NULL DEFAULT '',
    error text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (attempted_at);

-- Nodes known to send real mod_ai ai::channel-state events: the relay
-- passes theirs through and makes none of its own.
CREATE TABLE webhook_mod_ai_nodes (
    node text PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);
