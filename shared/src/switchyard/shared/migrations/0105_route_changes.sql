-- Which routes a transaction wrote (the route, its params or its time
-- rules; deleted ones too), so a config-api replica reloads only those
-- instead of every route (issue 12: 100k routes took seconds to reload, and
-- each reload stalled FreeSWITCH's /fs/xml fetches while a client wrote).
-- A reload reads the rows whose xid is at or past the horizon (the xmin of
-- the snapshot) of its previous load: every transaction below it was
-- finished then, so its writes were already read. Rows older than a day
-- are pruned; a replica whose last load is older than that loads in full.
CREATE TABLE route_changes (
    route_id bigint NOT NULL,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX route_changes_xid ON route_changes (xid);
CREATE INDEX route_changes_at ON route_changes (at);

CREATE FUNCTION route_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'routes' THEN
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO route_changes (route_id) VALUES (OLD.id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO route_changes (route_id) VALUES (NEW.id);
        END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO route_changes (route_id) VALUES (OLD.route_id);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO route_changes (route_id) VALUES (NEW.route_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER routes_changed AFTER INSERT OR UPDATE OR DELETE ON routes
    FOR EACH ROW EXECUTE FUNCTION route_changed();
CREATE TRIGGER route_params_changed AFTER INSERT OR UPDATE OR DELETE ON route_params
    FOR EACH ROW EXECUTE FUNCTION route_changed();
CREATE TRIGGER route_time_recurrences_changed
    AFTER INSERT OR UPDATE OR DELETE ON route_time_recurrences
    FOR EACH ROW EXECUTE FUNCTION route_changed();
