-- Trusted clusters: a tunnel routed to a leaf cluster (an agent of kind 'cluster') names the
-- leaf's node, which only the leaf resolves; NULL for every other session.
ALTER TABLE remote_sessions ADD COLUMN node VARCHAR(253) NULL;

-- The built-in role of a leaf's link account (airlock.trust.link-user): by itself it allows
-- nothing; the link acts only for the root's users, with the local roles they are mapped to.
INSERT INTO roles (name, description, rules, built_in, created_at, updated_at)
VALUES ('cluster-link', 'A trusted cluster''s link: allows nothing by itself; it acts for the root cluster''s users, under airlock.trust.role-map.',
        '[]', TRUE, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));
