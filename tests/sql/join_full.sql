-- FULL OUTER interval join on an INT key: orders meet their shipments
-- within a day. Unmatched orders and unmatched shipments both come
-- out with NULLs for the other side once the watermark passes them; a NULL
-- key comes out at once, meeting nothing. WHERE reads the joined row (NULLs
-- included), after the join decides what met.
CREATE STREAM orders (id INT, item TEXT, at TIMESTAMP) WITH (key = 'id', timestamp = 'at');
CREATE STREAM shipments (id INT, carrier TEXT, at TIMESTAMP) WITH (key = 'id', timestamp = 'at');
CREATE STREAM fulfilment AS
  SELECT coalesce(o.id, s.id) AS id, item, carrier, o.at AS ordered, s.at AS shipped
  FROM orders o FULL OUTER JOIN shipments s
    ON o.id = s.id AND s.at BETWEEN o.at AND o.at + INTERVAL '1' DAY
  WHERE carrier IS NULL OR carrier <> 'test';
