-- Trusted clusters: a tunnel routed to a leaf cluster (an agent of kind 'cluster') names the
-- leaf's node, which only the leaf resolves; NULL for every other session.
ALTER TABLE remote_sessions ADD COLUMN node VARCHAR(253) NULL;
