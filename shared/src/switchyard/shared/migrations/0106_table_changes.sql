-- Which of the other configuration tables a transaction wrote, so a
-- config-api replica re-reads only those on a reload (issue 12): with the
-- routes read incrementally (0105), re-reading and re-checking every other
-- table was most of what a one-route write cost each replica (tens of ms
-- holding the interpreter beside FreeSWITCH's /fs/xml fetches). Same horizon
-- rule as route_changes: a reload re-reads the tables named by rows whose xid
-- is at or past its previous load's snapshot xmin. A statement trigger fires
-- even when it touched no row: at worst a table is read once too often.
CREATE TABLE table_changes (
    tbl text NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX table_changes_xid ON table_changes (xid);
CREATE INDEX table_changes_at ON table_changes (at);

CREATE FUNCTION table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO table_changes (tbl) VALUES (TG_TABLE_NAME);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'contexts', 'blacklists', 'blacklist_numbers', 'hotlines', 'dods', 'func_codes',
        'gateways', 'gateway_params', 'gateway_variables', 'extensions', 'ivrs',
        'ivr_actions', 'trunks', 'trunk_groups', 'number_translations',
        'number_translation_numbers', 'iptables_rules', 'callcenter_queues',
        'callcenter_queue_members'
    ] LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION table_changed()',
            t || '_changed', t
        );
    END LOOP;
END
$$;

-- TRUNCATE fires no row trigger on the route tables: recorded here, it
-- makes the next reload a full one.
CREATE TRIGGER routes_truncated AFTER TRUNCATE ON routes
    FOR EACH STATEMENT EXECUTE FUNCTION table_changed();
CREATE TRIGGER route_params_truncated AFTER TRUNCATE ON route_params
    FOR EACH STATEMENT EXECUTE FUNCTION table_changed();
CREATE TRIGGER route_time_recurrences_truncated AFTER TRUNCATE ON route_time_recurrences
    FOR EACH STATEMENT EXECUTE FUNCTION table_changed();
