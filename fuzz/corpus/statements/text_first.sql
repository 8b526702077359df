CREATE STREAM x (a INT);
-- statement s1
