-- user-logins: login events from apps; malformed ones are refused with the
-- rule they break (into "user-login.dlq"), the rest are normalised and
-- enriched into "processed-user-login" and counted per minute by device
-- type and by locale.

CREATE STREAM "user-login" (
    user_id     TEXT NOT NULL,
    app_version TEXT NOT NULL CHECK (app_version LIKE '%.%.%' AND CAST(split_part(app_version, '.', 1) AS INT) >= 0
                                     AND CAST(split_part(app_version, '.', 2) AS INT) >= 0),
    ip          TEXT NOT NULL CHECK (ip_class(ip) IS NOT NULL),
    locale      TEXT NOT NULL CHECK (length(locale) = 2),
    device_id   TEXT NOT NULL,
    timestamp   TIMESTAMP NOT NULL,     -- epoch seconds or ISO 8601; anything else is refused
    device_type TEXT NOT NULL
) WITH (partitions = 4, key = 'user_id', timestamp = 'timestamp');

CREATE STREAM "processed-user-login" AS
  SELECT user_id,
         app_version,
         CAST(split_part(app_version, '.', 1) AS INT) AS app_major,
         CAST(split_part(app_version, '.', 2) AS INT) AS app_minor,
         ip,
         ip_class(ip) AS ip_class,
         upper(locale) AS locale,
         xxhash64(device_id) AS device_hash,      -- the device, without its id
         timestamp,
         device_type
  FROM "user-login";

CREATE TABLE logins_by_device AS
  SELECT device_type, window_start, COUNT(*) AS logins
  FROM TUMBLE("processed-user-login", INTERVAL '1' MINUTE) GROUP BY device_type;

CREATE TABLE logins_by_locale AS
  SELECT locale, window_start, COUNT(*) AS logins
  FROM TUMBLE("processed-user-login", INTERVAL '1' MINUTE) GROUP BY locale;
