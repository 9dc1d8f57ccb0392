-- LDAP directories that users and groups are synchronised from (job directory-sync), and the
-- link from a synchronised user to its directory entry.

CREATE TABLE directory_sources (
  id              CHAR(36)      NOT NULL PRIMARY KEY,
  row_no          BIGINT        NOT NULL AUTO_INCREMENT UNIQUE,
  name            VARCHAR(63)   NOT NULL UNIQUE,
  url             VARCHAR(255)  NOT NULL,
  start_tls       BOOLEAN       NOT NULL,
  allow_plaintext BOOLEAN       NOT NULL,
  ca_certificate  TEXT          NULL,
  bind_dn         VARCHAR(512)  NOT NULL,
  -- AES-256-GCM under the platform's secrets key (airlock.secrets.*), bound to the row's id.
  bind_password   VARCHAR(1024) NOT NULL,
  user_base       VARCHAR(512)  NOT NULL,
  user_filter     VARCHAR(1024) NOT NULL,
  group_base      VARCHAR(512)  NULL,
  group_filter    VARCHAR(1024) NOT NULL,
  attributes      TEXT          NOT NULL,
  group_roles     TEXT          NOT NULL,
  default_roles   TEXT          NOT NULL,
  enabled         BOOLEAN       NOT NULL,
  created_at      DATETIME(6)   NOT NULL,
  updated_at      DATETIME(6)   NOT NULL,
  last_sync_at    DATETIME(6)   NULL,
  last_sync_error VARCHAR(1024) NULL
) ENGINE=InnoDB;

-- source: 'local' or 'directory:<source name>' (kept when the source is removed).
-- external_key: the entry's entryUUID, or its DN where the directory has no entryUUID.
-- directory_disabled: disabled because the directory stopped returning the user (or the source
-- was removed), so a sync that finds the user again enables them; an administrator's disabling
-- is never undone by a sync.
ALTER TABLE users
  ADD COLUMN source              VARCHAR(80)  NOT NULL DEFAULT 'local',
  ADD COLUMN directory_source_id CHAR(36)     NULL,
  ADD COLUMN external_key        VARCHAR(512) NULL,
  ADD COLUMN directory_disabled  BOOLEAN      NOT NULL DEFAULT FALSE,
  ADD CONSTRAINT fk_users_directory_source FOREIGN KEY (directory_source_id)
    REFERENCES directory_sources (id) ON DELETE SET NULL,
  ADD UNIQUE INDEX ux_users_directory_key (directory_source_id, external_key);
