-- config-api: every configuration resource of the XSwitch REST specs.
-- Written only by config-api (docs/config-api.md); call-control and the
-- mod_xml_curl compiler read them. Rows are hard-deleted: the API's
-- `deleted_at` is always rendered "".

-- Enumerations the specs use (realm DEST, FUNC, IVR_ACTION_TYPE, …); (realm, k) unique.
CREATE TABLE dicts (
    id          bigserial PRIMARY KEY,
    realm       text NOT NULL,
    k           text NOT NULL,
    v           text NOT NULL DEFAULT '',
    d           text NOT NULL DEFAULT '',
    o           integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dicts_realm_k UNIQUE (realm, k)
);

CREATE TABLE contexts (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    key             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    domain          text NOT NULL DEFAULT '',
    hotline_enabled smallint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contexts_name_key UNIQUE (name),
    CONSTRAINT contexts_key_key UNIQUE (key)
);

CREATE TABLE extensions (
    id          bigserial PRIMARY KEY,
    extn        text NOT NULL,
    name        text NOT NULL DEFAULT '',
    password    text NOT NULL DEFAULT '',
    context     text NOT NULL DEFAULT 'context-1' REFERENCES contexts (key) ON UPDATE CASCADE,
    domain      text NOT NULL DEFAULT '',
    cid_name    text NOT NULL DEFAULT '',
    cid_number  text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT 'SIP',
    disabled    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT extensions_extn_domain UNIQUE (extn, domain)
);

CREATE TABLE gateways (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    realm       text NOT NULL DEFAULT '',
    username    text NOT NULL DEFAULT '',
    password    text NOT NULL DEFAULT '',
    profile_id  text NOT NULL DEFAULT '',
    register    text NOT NULL DEFAULT 'yes',
    description text NOT NULL DEFAULT '',
    disabled    smallint NOT NULL DEFAULT 0,
    dnc         text NOT NULL DEFAULT '',
    sdnc        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gateways_name_key UNIQUE (name)
);

CREATE TABLE gateway_params (
    id          bigserial PRIMARY KEY,
    gateway_id  bigint NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    k           text NOT NULL,
    v           text NOT NULL DEFAULT '',
    disabled    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gateway_params_gateway ON gateway_params (gateway_id);

CREATE TABLE gateway_variables (
    id          bigserial PRIMARY KEY,
    gateway_id  bigint NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    k           text NOT NULL,
    v           text NOT NULL DEFAULT '',
    disabled    smallint NOT NULL DEFAULT 0,
    direction   smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gateway_variables_gateway ON gateway_variables (gateway_id);

CREATE TABLE blocks (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    xml         text NOT NULL DEFAULT '',
    js          text NOT NULL DEFAULT '',
    lua         text NOT NULL DEFAULT '',
    ver         text NOT NULL DEFAULT '',
    ivr_menu_id text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ivrs (
    id                   bigserial PRIMARY KEY,
    name                 text NOT NULL,
    key                  text NOT NULL,
    description          text NOT NULL DEFAULT '',
    greet_long           text NOT NULL DEFAULT '',
    greet_short          text NOT NULL DEFAULT '',
    invalid_sound        text NOT NULL DEFAULT '',
    exit_sound           text NOT NULL DEFAULT '',
    transfer_sound       text NOT NULL DEFAULT '',
    timeout              integer NOT NULL DEFAULT 15000,
    max_failures         integer NOT NULL DEFAULT 3,
    max_timeouts         integer NOT NULL DEFAULT 4,
    exec_on_max_failures text NOT NULL DEFAULT '',
    exec_on_max_timeouts text NOT NULL DEFAULT '',
    confirm_key          text NOT NULL DEFAULT '',
    confirm_macro        text NOT NULL DEFAULT '',
    confirm_attempts     text NOT NULL DEFAULT '',
    tts_engine           text NOT NULL DEFAULT '',
    tts_voice            text NOT NULL DEFAULT '',
    digit_len            integer NOT NULL DEFAULT 1,
    inter_digit_timeout  integer NOT NULL DEFAULT 3000,
    pin                  text NOT NULL DEFAULT '',
    pin_file             text NOT NULL DEFAULT '',
    bad_pin_file         text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ivrs_name_key UNIQUE (name),
    CONSTRAINT ivrs_key_key UNIQUE (key)
);

CREATE TABLE ivr_actions (
    id           bigserial PRIMARY KEY,
    ivr_menu_id  bigint NOT NULL REFERENCES ivrs (id) ON DELETE CASCADE,
    digits       text NOT NULL,
    action       text NOT NULL,
    match_prefix smallint NOT NULL DEFAULT 0,
    args         text NOT NULL DEFAULT '',
    body         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ivr_actions_ivr ON ivr_actions (ivr_menu_id);

CREATE TABLE trunks (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT 'INOUT',
    protocol    text NOT NULL DEFAULT 'UDP',
    local_addr  text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    source      text NOT NULL DEFAULT '',
    register    boolean NOT NULL DEFAULT false,
    enabled     boolean NOT NULL DEFAULT true,
    media_codec text NOT NULL DEFAULT '',
    params      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trunks_name_key UNIQUE (name)
);

CREATE TABLE trunk_groups (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    strategy    text NOT NULL DEFAULT 'RR',
    params      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trunk_groups_name_key UNIQUE (name)
);

CREATE TABLE route_codes (
    id          bigserial PRIMARY KEY,
    code        varchar(8) NOT NULL,
    tg_id       bigint REFERENCES trunk_groups (id),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT route_codes_code_key UNIQUE (code)
);

CREATE TABLE blacklists (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    list_type       smallint NOT NULL DEFAULT 0,
    limit_user_type smallint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blacklists_name_key UNIQUE (name)
);

CREATE TABLE blacklist_numbers (
    id           bigserial PRIMARY KEY,
    blacklist_id bigint NOT NULL REFERENCES blacklists (id) ON DELETE CASCADE,
    k            text NOT NULL DEFAULT '',
    v            text NOT NULL,
    disabled     smallint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blacklist_numbers_list ON blacklist_numbers (blacklist_id);

CREATE TABLE routes (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    prefix       text NOT NULL DEFAULT '',
    max_length   integer NOT NULL DEFAULT 12,
    context      text NOT NULL REFERENCES contexts (key) ON UPDATE CASCADE,
    dnc          text NOT NULL DEFAULT '',
    sdnc         text NOT NULL DEFAULT '',
    dest_type    text NOT NULL,
    dest_uuid    text NOT NULL DEFAULT '',
    body         text NOT NULL DEFAULT '',
    auto_record  smallint NOT NULL DEFAULT 0,
    bill_rate    numeric(12, 2) NOT NULL DEFAULT 0,
    blacklist    text NOT NULL DEFAULT '',
    proxy_media  smallint NOT NULL DEFAULT 1,
    route_type   smallint NOT NULL DEFAULT 4,
    media_codec  text NOT NULL DEFAULT '',
    disabled     smallint NOT NULL DEFAULT 0,
    cid_number   text NOT NULL DEFAULT '',
    did_enabled  smallint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT routes_name_key UNIQUE (name),
    CONSTRAINT routes_context_prefix_max_length UNIQUE (context, prefix, max_length)
);
CREATE INDEX routes_match ON routes (context, max_length, prefix);

CREATE TABLE route_params (
    id          bigserial PRIMARY KEY,
    route_id    bigint NOT NULL REFERENCES routes (id) ON DELETE CASCADE,
    k           text NOT NULL,
    v           text NOT NULL DEFAULT '',
    disabled    smallint NOT NULL DEFAULT 0,
    o           integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX route_params_route ON route_params (route_id);

-- A route's time rules: while one is active it replaces the route's destination.
CREATE TABLE route_time_recurrences (
    id              bigserial PRIMARY KEY,
    route_id        bigint NOT NULL REFERENCES routes (id) ON DELETE CASCADE,
    time_recurrence text NOT NULL,
    dest_type       text NOT NULL,
    dest_uuid       text NOT NULL DEFAULT '',
    body            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX route_time_recurrences_route ON route_time_recurrences (route_id);

CREATE TABLE time_templates (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT time_templates_name_key UNIQUE (name)
);

CREATE TABLE time_template_recurrences (
    id              bigserial PRIMARY KEY,
    template_id     bigint NOT NULL REFERENCES time_templates (id) ON DELETE CASCADE,
    time_recurrence text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX time_template_recurrences_template ON time_template_recurrences (template_id);

CREATE TABLE func_codes (
    id          bigserial PRIMARY KEY,
    func_code   text NOT NULL,
    func_type   text NOT NULL,
    description text NOT NULL DEFAULT '',
    disabled    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT func_codes_func_code_key UNIQUE (func_code)
);

CREATE TABLE hotlines (
    id          bigserial PRIMARY KEY,
    line_number text NOT NULL,
    numbers     text NOT NULL,
    description text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT '',
    ref_id      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hotlines_line_number_key UNIQUE (line_number)
);

CREATE TABLE dods (
    id          bigserial PRIMARY KEY,
    extn_id     bigint NOT NULL REFERENCES extensions (id),
    extn        text NOT NULL,
    line_number text NOT NULL,
    type        text NOT NULL,
    ref_id      bigint NOT NULL,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dods_extn_id_key UNIQUE (extn_id)
);

CREATE TABLE iptables_rules (
    id              bigserial PRIMARY KEY,
    target_ip       text NOT NULL,
    target_name     text NOT NULL DEFAULT '',
    target_port     integer NOT NULL DEFAULT 0, -- 0: every port
    target_protocol text NOT NULL DEFAULT 'all',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iptables_rules_target UNIQUE (target_ip, target_port, target_protocol)
);

CREATE TABLE number_translations (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT 'exact',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT number_translations_name_key UNIQUE (name)
);

CREATE TABLE number_translation_numbers (
    id              bigserial PRIMARY KEY,
    table_id        bigint NOT NULL REFERENCES number_translations (id) ON DELETE CASCADE,
    original_number text NOT NULL,
    nts_number      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT number_translation_numbers_original UNIQUE (table_id, original_number)
);

CREATE TABLE device_provisions (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    vendor      text NOT NULL DEFAULT '',
    mac         text NOT NULL DEFAULT '',
    extn        text NOT NULL DEFAULT '',
    type        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE extn_alarms (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    caller_number text NOT NULL DEFAULT '',
    call_duration text NOT NULL DEFAULT '',
    extn_id       bigint REFERENCES extensions (id),
    description   text NOT NULL DEFAULT '',
    action        text NOT NULL DEFAULT 'playback',
    data          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE extn_alarm_devices (
    id             bigserial PRIMARY KEY,
    extn_alarms_id bigint NOT NULL REFERENCES extn_alarms (id) ON DELETE CASCADE,
    device_id      text NOT NULL,
    device_name    text NOT NULL DEFAULT '',
    event_name     text NOT NULL DEFAULT '',
    event_time     text NOT NULL DEFAULT '',
    call_uuid      text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'init',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT extn_alarm_devices_device UNIQUE (extn_alarms_id, device_id)
);

-- Config-change notices written in the same transaction as the change and
-- published to NATS by a worker afterwards, so none is sent before the
-- commit and none is lost while NATS is away.
CREATE TABLE config_outbox (
    id          bigserial PRIMARY KEY,
    resource    text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per seed applied to this database (the demo PBX is seeded once).
CREATE TABLE config_seeds (
    name        text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- What every install has: the local-extension context and the enumerations.
INSERT INTO contexts (id, name, key, description)
VALUES (1, '分机', 'context-1', '本地分机发起的呼叫');
SELECT setval(pg_get_serial_sequence('contexts', 'id'), 1);
