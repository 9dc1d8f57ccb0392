-- Mail notifications: the outbox the mail job delivers from, the devices users log in from, and
-- which containers' owners were warned of the coming end of their TTL.

-- One mail, rendered when it was queued. next_attempt_at is when the mail job tries it (again);
-- NULL once it is sent (sent_at) or given up after airlock.mail.max-attempts (last_error says why).
CREATE TABLE mail_outbox (
  id              CHAR(36)      NOT NULL PRIMARY KEY,
  row_no          BIGINT        NOT NULL AUTO_INCREMENT UNIQUE,
  recipient       VARCHAR(254)  NOT NULL,
  template        VARCHAR(64)   NOT NULL,
  subject         VARCHAR(512)  NOT NULL,
  body            MEDIUMTEXT    NOT NULL,
  created_at      DATETIME(6)   NOT NULL,
  attempts        INT           NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)   NULL,
  sent_at         DATETIME(6)   NULL,
  last_error      VARCHAR(512)  NULL,
  INDEX ix_mail_outbox_due (next_attempt_at),
  INDEX ix_mail_outbox_created (created_at)
) ENGINE=InnoDB;

-- A device a user logged in from with a password: the SHA-256 of its User-Agent and source
-- network (/24 of an IPv4 address, /64 of an IPv6 one).
CREATE TABLE login_devices (
  user_id       CHAR(36)     NOT NULL,
  fingerprint   CHAR(64)     NOT NULL,
  user_agent    VARCHAR(512) NULL,
  network       VARCHAR(64)  NOT NULL,
  first_seen_at DATETIME(6)  NOT NULL,
  last_seen_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (user_id, fingerprint),
  CONSTRAINT fk_login_devices_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- When the owner was warned that the container's TTL ends soon (once per container).
ALTER TABLE containers ADD COLUMN expiry_warned_at DATETIME(6) NULL;
