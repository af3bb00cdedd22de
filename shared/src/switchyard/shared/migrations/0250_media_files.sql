-- media: the spec's media files (uploads, TTS, recordings). Owned by the
-- media service, which alone writes it; config-api's routing engine reads
-- id, name and abs_path (FS_DEST_PLAYBACK / FS_DEST_SCRIPT), so a change to
-- those bumps config_version and its replicas reload as for any
-- configuration write.
CREATE TABLE media_files (
    id                  bigserial PRIMARY KEY,
    type                text NOT NULL DEFAULT 'UPLOAD',
    name                text NOT NULL DEFAULT '',
    description         text NOT NULL DEFAULT '',
    channel_uuid        text NOT NULL DEFAULT '',
    ext                 text NOT NULL DEFAULT '',
    mime                text NOT NULL DEFAULT '',
    file_size           bigint NOT NULL DEFAULT 0,
    -- What FreeSWITCH plays, as the API answers it (docs/media.md).
    abs_path            text NOT NULL DEFAULT '',
    dir_path            text NOT NULL DEFAULT '',
    rel_path            text NOT NULL DEFAULT '',
    -- Where the bytes are in the media service's storage ("upload/x.wav");
    -- NULL: not in it (a recording FreeSWITCH wrote elsewhere).
    storage_key         text UNIQUE,
    original_file_name  text NOT NULL DEFAULT '',
    file_name           text NOT NULL DEFAULT '',
    thumb_path          text NOT NULL DEFAULT '',
    geo_position        text NOT NULL DEFAULT '',
    meta                text NOT NULL DEFAULT '',
    processing_flag     integer NOT NULL DEFAULT 0,
    -- Milliseconds; 0 when the file is not audio the service can read.
    duration            bigint NOT NULL DEFAULT 0,
    sample_rate         integer NOT NULL DEFAULT 0,
    channels            integer NOT NULL DEFAULT 0,
    bit_rate            integer NOT NULL DEFAULT 0,
    user_id             bigint NOT NULL DEFAULT 0,
    -- TTS cache: sha256 of engine, voice, parameters and text.
    tts_key             text UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_files_type ON media_files (type);
CREATE INDEX media_files_channel_uuid ON media_files (channel_uuid) WHERE channel_uuid <> '';
-- A recording is registered once, however often its RECORD_STOP is delivered.
CREATE UNIQUE INDEX media_files_record_path ON media_files (abs_path) WHERE type = 'RECORD';

CREATE TRIGGER media_files_version AFTER INSERT OR DELETE OR UPDATE OF name, abs_path
    ON media_files FOR EACH STATEMENT EXECUTE FUNCTION config_version_bump();
