-- Identity, RBAC, tokens and the audit log. Times are UTC, microsecond precision.

CREATE TABLE users (
  id                       CHAR(36)     NOT NULL PRIMARY KEY,
  row_no                   BIGINT       NOT NULL AUTO_INCREMENT UNIQUE,
  username                 VARCHAR(64)  NOT NULL UNIQUE,
  display_name             VARCHAR(128) NULL,
  email                    VARCHAR(254) NULL,
  password_hash            VARCHAR(255) NOT NULL,
  labels                   TEXT         NOT NULL,
  disabled                 BOOLEAN      NOT NULL DEFAULT FALSE,
  password_change_required BOOLEAN      NOT NULL DEFAULT FALSE,
  failed_logins            INT          NOT NULL DEFAULT 0,
  locked_until             DATETIME(6)  NULL,
  created_at               DATETIME(6)  NOT NULL,
  updated_at               DATETIME(6)  NOT NULL,
  last_login_at            DATETIME(6)  NULL
) ENGINE=InnoDB;

CREATE TABLE roles (
  name        VARCHAR(64)  NOT NULL PRIMARY KEY,
  description VARCHAR(256) NULL,
  rules       TEXT         NOT NULL,
  built_in    BOOLEAN      NOT NULL DEFAULT FALSE,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

CREATE TABLE user_roles (
  user_id   CHAR(36)    NOT NULL,
  role_name VARCHAR(64) NOT NULL,
  PRIMARY KEY (user_id, role_name),
  CONSTRAINT fk_user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_user_roles_role FOREIGN KEY (role_name) REFERENCES roles (name)
) ENGINE=InnoDB;

CREATE TABLE api_keys (
  id           CHAR(36)    NOT NULL PRIMARY KEY,
  row_no       BIGINT      NOT NULL AUTO_INCREMENT UNIQUE,
  owner_id     CHAR(36)    NOT NULL,
  name         VARCHAR(64) NOT NULL,
  prefix       VARCHAR(16) NOT NULL,
  secret_hash  CHAR(64)    NOT NULL UNIQUE,
  created_at   DATETIME(6) NOT NULL,
  expires_at   DATETIME(6) NOT NULL,
  last_used_at DATETIME(6) NULL,
  revoked_at   DATETIME(6) NULL,
  CONSTRAINT fk_api_keys_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
  INDEX ix_api_keys_owner (owner_id, row_no)
) ENGINE=InnoDB;

CREATE TABLE api_key_roles (
  key_id    CHAR(36)    NOT NULL,
  role_name VARCHAR(64) NOT NULL,
  PRIMARY KEY (key_id, role_name),
  CONSTRAINT fk_api_key_roles_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE,
  CONSTRAINT fk_api_key_roles_role FOREIGN KEY (role_name) REFERENCES roles (name)
) ENGINE=InnoDB;

-- A login session: one password login and the chain of refresh tokens rotated from it.
CREATE TABLE auth_sessions (
  id             CHAR(36)    NOT NULL PRIMARY KEY,
  user_id        CHAR(36)    NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  expires_at     DATETIME(6) NOT NULL,
  revoked_at     DATETIME(6) NULL,
  revoked_reason VARCHAR(64) NULL,
  CONSTRAINT fk_auth_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  INDEX ix_auth_sessions_user (user_id)
) ENGINE=InnoDB;

CREATE TABLE refresh_tokens (
  token_hash CHAR(64)    NOT NULL PRIMARY KEY,
  session_id CHAR(36)    NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used_at    DATETIME(6) NULL,
  CONSTRAINT fk_refresh_tokens_session FOREIGN KEY (session_id) REFERENCES auth_sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE signing_keys (
  kid         VARCHAR(64) NOT NULL PRIMARY KEY,
  private_jwk TEXT        NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  retired_at  DATETIME(6) NULL
) ENGINE=InnoDB;

-- The audit log: append-only and hash-chained (hash = SHA-256(prev_hash, this event)).
CREATE TABLE audit_events (
  seq            BIGINT       NOT NULL PRIMARY KEY,
  id             CHAR(36)     NOT NULL UNIQUE,
  occurred_at    DATETIME(6)  NOT NULL,
  actor          VARCHAR(128) NOT NULL,
  actor_id       VARCHAR(64)  NULL,
  action         VARCHAR(64)  NOT NULL,
  target_kind    VARCHAR(32)  NULL,
  target         VARCHAR(256) NULL,
  outcome        VARCHAR(16)  NOT NULL,
  reason         VARCHAR(512) NULL,
  source_address VARCHAR(64)  NULL,
  prev_hash      CHAR(64)     NOT NULL,
  hash           CHAR(64)     NOT NULL,
  INDEX ix_audit_time (occurred_at),
  INDEX ix_audit_actor (actor, seq),
  INDEX ix_audit_action (action, seq)
) ENGINE=InnoDB;

-- The chain's head; appending locks this row, so events get gap-free sequence numbers.
CREATE TABLE audit_head (
  id        TINYINT  NOT NULL PRIMARY KEY,
  last_seq  BIGINT   NOT NULL,
  last_hash CHAR(64) NOT NULL
) ENGINE=InnoDB;

INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events is append-only';

INSERT INTO roles (name, description, rules, built_in, created_at, updated_at)
VALUES ('admin', 'Everything, on every object.',
        '[{"effect":"allow","resources":["*"],"verbs":["*"]}]', TRUE, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));
