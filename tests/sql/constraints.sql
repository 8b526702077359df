-- Column constraints: a record breaking NOT NULL or a CHECK is a dead letter
-- with the reason; a CHECK that is NULL passes (as in SQL). ip_class names
-- an IPv4 address's class, NULL for anything that is not one.
CREATE STREAM logins (user_id TEXT NOT NULL, ip TEXT NOT NULL CHECK (ip_class(ip) IS NOT NULL),
                      locale TEXT CHECK (length(locale) = 2), n INT CHECK (n / 0 = 1 OR n IS NULL OR n > 0));
CREATE STREAM ok AS SELECT user_id, ip_class(ip) AS class, upper(locale) AS locale FROM logins;
