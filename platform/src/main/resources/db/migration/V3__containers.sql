-- Container images (templates), provisioners, ephemeral containers, and the job lock table.

CREATE TABLE images (
  id                   CHAR(36)     NOT NULL PRIMARY KEY,
  name                 VARCHAR(63)  NOT NULL UNIQUE,
  description          VARCHAR(256) NULL,
  reference            VARCHAR(255) NOT NULL,
  isolation            VARCHAR(16)  NOT NULL,
  memory_bytes         BIGINT       NULL,
  cpu_millis           INT          NULL,
  pids                 INT          NULL,
  max_ttl_seconds      INT          NOT NULL,
  default_ttl_seconds  INT          NOT NULL,
  idle_timeout_seconds INT          NOT NULL,
  clipboard            VARCHAR(8)   NOT NULL,
  environment          TEXT         NOT NULL,
  warm_pool            INT          NOT NULL,
  labels               TEXT         NOT NULL,
  created_at           DATETIME(6)  NOT NULL,
  updated_at           DATETIME(6)  NULL
) ENGINE=InnoDB;

CREATE TABLE provisioners (
  id             CHAR(36)     NOT NULL PRIMARY KEY,
  name           VARCHAR(63)  NOT NULL UNIQUE,
  url            VARCHAR(255) NOT NULL,
  labels         TEXT         NOT NULL,
  max_containers INT          NOT NULL,
  mode           VARCHAR(16)  NULL,
  created_at     DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- A warm container has no owner until it is handed out; then the same row becomes the
-- requester's. The idempotency key is unique per owner.
CREATE TABLE containers (
  id                   CHAR(36)     NOT NULL PRIMARY KEY,
  row_no               BIGINT       NOT NULL AUTO_INCREMENT UNIQUE,
  image_id             CHAR(36)     NOT NULL,
  image_name           VARCHAR(63)  NOT NULL,
  owner_id             CHAR(36)     NULL,
  owner_name           VARCHAR(64)  NULL,
  idempotency_key      VARCHAR(128) NULL,
  warm                 BOOLEAN      NOT NULL DEFAULT FALSE,
  from_warm_pool       BOOLEAN      NOT NULL DEFAULT FALSE,
  state                VARCHAR(16)  NOT NULL,
  reason               VARCHAR(512) NULL,
  labels               TEXT         NOT NULL,
  provisioner_id       CHAR(36)     NULL,
  join_token_id        CHAR(36)     NULL,
  agent_id             CHAR(36)     NULL,
  ttl_seconds          INT          NOT NULL,
  idle_timeout_seconds INT          NOT NULL,
  created_at           DATETIME(6)  NOT NULL,
  ready_at             DATETIME(6)  NULL,
  expires_at           DATETIME(6)  NOT NULL,
  idle_since           DATETIME(6)  NULL,
  ended_at             DATETIME(6)  NULL,
  UNIQUE KEY uq_containers_idempotency (owner_id, idempotency_key),
  UNIQUE KEY uq_containers_agent (agent_id),
  INDEX ix_containers_owner (owner_id, row_no),
  INDEX ix_containers_state (state, expires_at),
  INDEX ix_containers_warm (image_id, warm, state),
  INDEX ix_containers_join_token (join_token_id)
) ENGINE=InnoDB;

-- ShedLock's table: a scheduled job runs on one platform replica at a time.
CREATE TABLE shedlock (
  name       VARCHAR(64)  NOT NULL PRIMARY KEY,
  lock_until TIMESTAMP(3) NOT NULL,
  locked_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  locked_by  VARCHAR(255) NOT NULL
) ENGINE=InnoDB;

INSERT INTO roles (name, description, rules, built_in, created_at, updated_at)
VALUES ('container-user', 'Launch, use and delete one''s own browser-isolation containers; see the images.',
        '[{"effect":"allow","resources":["image"],"verbs":["list","read"]},{"effect":"allow","resources":["container"],"verbs":["create"]}]',
        TRUE, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));
