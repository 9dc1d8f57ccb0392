-- Agents, their join tokens and presence; signal nodes; remote sessions.

CREATE TABLE agent_join_tokens (
  id          CHAR(36)     NOT NULL PRIMARY KEY,
  row_no      BIGINT       NOT NULL AUTO_INCREMENT UNIQUE,
  secret_hash CHAR(64)     NOT NULL UNIQUE,
  kind        VARCHAR(16)  NOT NULL,
  labels      TEXT         NOT NULL,
  description VARCHAR(256) NULL,
  max_uses    INT          NOT NULL,
  uses        INT          NOT NULL DEFAULT 0,
  created_by  VARCHAR(64)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL,
  expires_at  DATETIME(6)  NOT NULL,
  revoked_at  DATETIME(6)  NULL
) ENGINE=InnoDB;

CREATE TABLE signal_nodes (
  id           VARCHAR(64)  NOT NULL PRIMARY KEY,
  url          VARCHAR(512) NOT NULL,
  admin_url    VARCHAR(512) NOT NULL,
  registered_at DATETIME(6) NOT NULL,
  last_seen_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- An agent's identity is its EC P-256 public key (a JWK); the platform keeps no secret of it.
CREATE TABLE agents (
  id               CHAR(36)     NOT NULL PRIMARY KEY,
  row_no           BIGINT       NOT NULL AUTO_INCREMENT UNIQUE,
  name             VARCHAR(253) NOT NULL UNIQUE,
  kind             VARCHAR(16)  NOT NULL,
  labels           TEXT         NOT NULL,
  hostname         VARCHAR(253) NOT NULL,
  version          VARCHAR(64)  NULL,
  public_key       TEXT         NOT NULL,
  dtls_fingerprint VARCHAR(128) NOT NULL,
  join_token_id    CHAR(36)     NULL,
  enrolled_at      DATETIME(6)  NOT NULL,
  revoked_at       DATETIME(6)  NULL,
  signal_node_id   VARCHAR(64)  NULL,
  connected_at     DATETIME(6)  NULL,
  last_seen_at     DATETIME(6)  NULL,
  INDEX ix_agents_node (signal_node_id)
) ENGINE=InnoDB;

-- Agent proofs are single use: their jti is kept until they expire.
CREATE TABLE agent_proofs (
  jti        VARCHAR(128) NOT NULL PRIMARY KEY,
  expires_at DATETIME(6) NOT NULL,
  INDEX ix_agent_proofs_expiry (expires_at)
) ENGINE=InnoDB;

CREATE TABLE remote_sessions (
  id                CHAR(36)     NOT NULL PRIMARY KEY,
  row_no            BIGINT       NOT NULL AUTO_INCREMENT UNIQUE,
  user_id           CHAR(36)     NOT NULL,
  username          VARCHAR(64)  NOT NULL,
  agent_id          CHAR(36)     NOT NULL,
  mode              VARCHAR(16)  NOT NULL,
  transport         VARCHAR(16)  NOT NULL,
  state             VARCHAR(16)  NOT NULL,
  token_id          CHAR(36)     NOT NULL,
  token_expires_at  DATETIME(6)  NOT NULL,
  signal_node_id    VARCHAR(64)  NOT NULL,
  path              VARCHAR(16)  NULL,
  created_at        DATETIME(6)  NOT NULL,
  started_at        DATETIME(6)  NULL,
  ended_at          DATETIME(6)  NULL,
  end_reason        VARCHAR(256) NULL,
  bytes_from_client BIGINT       NULL,
  bytes_from_agent  BIGINT       NULL,
  end_reported      BOOLEAN      NOT NULL DEFAULT FALSE,
  INDEX ix_sessions_user (user_id, row_no),
  INDEX ix_sessions_agent (agent_id, row_no),
  INDEX ix_sessions_state (state, row_no)
) ENGINE=InnoDB;

INSERT INTO roles (name, description, rules, built_in, created_at, updated_at)
VALUES ('signal-node', 'What a signal node may do: register itself, enrol and admit agents, start and end sessions.',
        '[{"effect":"allow","resources":["signal_node"],"verbs":["*"]}]', TRUE, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));
