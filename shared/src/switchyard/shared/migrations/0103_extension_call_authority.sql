-- config-api: an extension's call authority (xswitch-clients-observed.md
-- §16), the highest route_type its calls may take: 0 emergency, 1 internal,
-- 2 local, 3 domestic, 4 international (the spec's route_type scale). The
-- default 4 keeps what every extension could call before this column.
ALTER TABLE extensions ADD COLUMN IF NOT EXISTS call_authority smallint NOT NULL DEFAULT 4
    CONSTRAINT extensions_call_authority CHECK (call_authority BETWEEN 0 AND 4);
