-- event-relay: coocenter's push events are a webhook format of their own, and
-- SWITCHYARD_COOCENTER_PUSH_URL is a second system subscription beside
-- SWITCHYARD_POST_EVENT_URL: at most one system row per format.

ALTER TABLE webhooks DROP CONSTRAINT webhooks_format_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_format_check
    CHECK (format IN ('xswitch', 'raw', 'coocenter'));

DROP INDEX webhooks_one_system;
CREATE UNIQUE INDEX webhooks_one_system_per_format ON webhooks (format) WHERE system;
