-- config-api: one number that grows with every committed configuration
-- write. Every write queues a config_outbox row in its own transaction
-- (framework/tx.py, demo.py), so a statement trigger there bumps it inside
-- that same transaction: a replica that reads the configuration in one
-- snapshot together with this number knows exactly which writes it has, and
-- a replica whose NATS notice was lost notices the change by polling it.
-- The single row serialises concurrent configuration writes until commit;
-- they are rare (an operator's edits), and that order is what makes the
-- number meaningful.
CREATE TABLE config_version (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    version  bigint NOT NULL DEFAULT 0
);
INSERT INTO config_version (id, version) VALUES (true, 0);

CREATE FUNCTION config_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_version SET version = version + 1 WHERE id;
    RETURN NULL;
END
$$;

CREATE TRIGGER config_outbox_version AFTER INSERT ON config_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump();
