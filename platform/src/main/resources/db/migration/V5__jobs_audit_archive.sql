-- Scheduled jobs' runs, and the audit log's archive.

-- One row per run of a job, on whichever replica held the job's lock (shedlock).
CREATE TABLE job_runs (
  id           CHAR(36)      NOT NULL PRIMARY KEY,
  row_no       BIGINT        NOT NULL AUTO_INCREMENT UNIQUE,
  job          VARCHAR(64)   NOT NULL,
  trigger_kind VARCHAR(16)   NOT NULL,
  triggered_by VARCHAR(128)  NULL,
  started_at   DATETIME(6)   NOT NULL,
  ended_at     DATETIME(6)   NULL,
  outcome      VARCHAR(16)   NOT NULL,
  counts       TEXT          NOT NULL,
  message      VARCHAR(1024) NULL,
  replica      VARCHAR(128)  NOT NULL,
  INDEX ix_job_runs_job (job, row_no)
) ENGINE=InnoDB;

-- Archived audit events: each batch holds consecutive events (gzip'd JSON lines, in seq order)
-- and the hashes at both ends of it, so the chain verifies across the cut.
CREATE TABLE audit_archive (
  id           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  first_seq    BIGINT      NOT NULL UNIQUE,
  last_seq     BIGINT      NOT NULL UNIQUE,
  first_at     DATETIME(6) NOT NULL,
  last_at      DATETIME(6) NOT NULL,
  events       INT         NOT NULL,
  prev_hash    CHAR(64)    NOT NULL,
  last_hash    CHAR(64)    NOT NULL,
  content_hash CHAR(64)    NOT NULL,
  data         LONGBLOB    NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  INDEX ix_audit_archive_time (last_at)
) ENGINE=InnoDB;

-- Where the verifiable chain starts once archive batches were deleted by retention: the last
-- deleted event's seq and hash (0 and the genesis hash while nothing was deleted).
ALTER TABLE audit_head
  ADD COLUMN purged_seq  BIGINT   NOT NULL DEFAULT 0,
  ADD COLUMN purged_hash CHAR(64) NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

-- The live log stays append-only, except that an event may leave it once an archive batch
-- holds it (the archive job inserts the batch and deletes its events in one transaction).
DROP TRIGGER audit_events_no_delete;

DELIMITER $$
CREATE TRIGGER audit_events_archived_only BEFORE DELETE ON audit_events FOR EACH ROW
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_archive WHERE first_seq <= OLD.seq AND last_seq >= OLD.seq) THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_events: only archived events may be removed';
  END IF;
END$$
DELIMITER ;

CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON audit_archive FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_archive batches are immutable';
