-- Reverse tunnels: what edge nodes expose, which target and login a tunnel session used, and SSH
-- logins on rules (the built-in admin may log in as anyone).

-- An edge node's declared targets as JSON text ([{"name":"ssh","kind":"ssh"}, …]), replaced at
-- every connect; NULL for agents of other kinds. NULL rather than a default '[]' because MySQL
-- refuses literal defaults on TEXT columns.
ALTER TABLE agents ADD COLUMN targets TEXT NULL;

-- 'app:' + 63 characters is the longest target name the API accepts.
ALTER TABLE remote_sessions
  ADD COLUMN tunnel_target VARCHAR(72) NULL,
  ADD COLUMN login         VARCHAR(32) NULL;

UPDATE roles
   SET rules = '[{"effect":"allow","resources":["*"],"verbs":["*"],"logins":["*"]}]',
       updated_at = UTC_TIMESTAMP(6)
 WHERE name = 'admin' AND built_in = TRUE;
