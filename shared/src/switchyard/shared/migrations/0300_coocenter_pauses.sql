-- call-control: coocenter's after-call work (pausetime=yes). After each
-- answered queue call the agent is put On Break; one row per such pause,
-- ended when its time is up (ended_by 'timeout') or when the agent's status
-- changes first (an unpause, a logout: 'unpause'). seconds is the pause's
-- length once it ended (NULL while it lasts): cc_cdr's pauseTime. call_uuid
-- is the caller's channel (CC-Member-Session-UUID) of the call before it.
CREATE TABLE coocenter_pauses (
    id           bigserial PRIMARY KEY,
    node         text NOT NULL,
    agent        text NOT NULL,
    call_uuid    text NOT NULL,
    member_uuid  text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz NOT NULL,
    ended_at     timestamptz,
    seconds      integer,
    ended_by     text NOT NULL DEFAULT ''
);
CREATE INDEX coocenter_pauses_open ON coocenter_pauses (due_at) WHERE ended_at IS NULL;
CREATE INDEX coocenter_pauses_call ON coocenter_pauses (call_uuid);
