-- A derived stream: WHERE with IS NOT NULL and BETWEEN, string functions,
-- CASE with LIKE, CAST, checked arithmetic (UINT stays UINT next to a
-- literal; overflow and failed casts send the record to the dead letters).
CREATE STREAM logins (user_id TEXT, app_version TEXT, ip TEXT, locale TEXT, n INT, big UINT, ts TIMESTAMP)
  WITH (timestamp = 'ts');
CREATE STREAM processed AS
  SELECT user_id, upper(locale) AS locale,
         CAST(split_part(app_version, '.', 1) AS INT) AS major,
         CAST(split_part(app_version, '.', 2) AS INT) AS minor,
         CASE WHEN ip LIKE '10.%' THEN 'private' WHEN ip IS NULL THEN 'none' ELSE 'public' END AS ip_class,
         n * 2 + 1 AS n2, big * 3 + 1 AS big3, length(user_id) AS len,
         concat(user_id, '@', locale) AS tag, substr(user_id, 2, 3) AS mid,
         coalesce(locale, 'xx') AS loc, n / 4 AS quarter, n % 4 AS rest, ts
  FROM logins
  WHERE user_id IS NOT NULL AND n BETWEEN 0 AND 100;
