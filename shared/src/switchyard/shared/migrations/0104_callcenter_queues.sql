-- config-api: call-center queues (coocenter's queues, FreeSWITCH's mod_callcenter
-- queues served as callcenter.conf through /fs/xml) and their members: each
-- member is an extension answering the queue's calls (a mod_callcenter agent
-- and tier; penalty 0 is tier level 1, as Asterisk's penalty 0 comes first).
CREATE TABLE callcenter_queues (
    id                                       bigserial PRIMARY KEY,
    name                                     text NOT NULL,
    description                              text NOT NULL DEFAULT '',
    strategy                                 text NOT NULL DEFAULT 'longest-idle-agent',
    moh_sound                                text NOT NULL DEFAULT '',
    max_wait_time                            integer NOT NULL DEFAULT 0,
    max_wait_time_with_no_agent              integer NOT NULL DEFAULT 0,
    max_wait_time_with_no_agent_time_reached integer NOT NULL DEFAULT 5,
    agent_timeout                            integer NOT NULL DEFAULT 20,
    disabled                                 smallint NOT NULL DEFAULT 0,
    created_at                               timestamptz NOT NULL DEFAULT now(),
    updated_at                               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT callcenter_queues_name_key UNIQUE (name)
);

CREATE TABLE callcenter_queue_members (
    id          bigserial PRIMARY KEY,
    queue_id    bigint NOT NULL REFERENCES callcenter_queues (id) ON DELETE CASCADE,
    extn        text NOT NULL,
    penalty     integer NOT NULL DEFAULT 0,
    position    integer NOT NULL DEFAULT 1,
    disabled    smallint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT callcenter_queue_members_extn UNIQUE (queue_id, extn)
);
CREATE INDEX callcenter_queue_members_queue ON callcenter_queue_members (queue_id);
