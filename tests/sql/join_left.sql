-- LEFT OUTER interval join, the bound written with >= and <= and a GRACE:
-- a buy from a minute before to five after its click. A click that met no
-- buy is emitted with NULLs once the watermark (the least of both streams')
-- passes its interval plus grace: bob's when eve's click moves it, cid's
-- when eve's buy does, ann's f at the end of the input. Late records (by
-- their own stream's watermark) go to the dead letters.
CREATE STREAM clicks (user TEXT, page TEXT, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM buys (user TEXT, amount DOUBLE, ts TIMESTAMP) WITH (key = 'user', timestamp = 'ts');
CREATE STREAM clicks_and_buys AS
  SELECT clicks.user, page, amount, clicks.ts AS click_ts, b.ts AS buy_ts
  FROM clicks LEFT JOIN buys b
    ON b.ts >= clicks.ts - INTERVAL '1' MINUTE AND clicks.user = b.user AND b.ts <= clicks.ts + INTERVAL '5' MINUTES
    GRACE INTERVAL '2' MINUTE;
