package dev.airlock.contract;

import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.model.AuditVerification;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The audit log's hash chain against an attacker with DBA rights: the database refuses to change or
 * delete events, and when its triggers are dropped and a row is altered anyway, verification names
 * that row.
 *
 * <p>Runs last in the suite (class {@code @Order}), because it breaks the chain for good.
 */
@ContractTest
@Order(Integer.MAX_VALUE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditTamperContractTest {

  @Test
  @Order(1)
  void theUntouchedChainVerifies(ContractPlatform platform) {
    AuditVerification verification =
        platform.admin().audit().verifyAuditChain().block(CALL_TIMEOUT);

    assertThat(verification.getValid()).as("valid, with %s", verification).isTrue();
    assertThat(verification.getChecked()).isPositive();
    assertThat(verification.getFirstBadSeq()).isNull();
  }

  @Test
  @Order(2)
  void aRowAlteredBehindThePlatformsBackIsFound(ContractPlatform platform) throws SQLException {
    long seq;
    try (Connection db = platform.database().connect()) {
      seq = middleSeq(db);
      String action = actionOf(db, seq);
      String forged = action.equals("user.delete") ? "user.update" : "user.delete";

      assertThatThrownBy(() -> setAction(db, seq, forged))
          .as("UPDATE of audit event %d", seq)
          .isInstanceOf(SQLException.class);
      assertThatThrownBy(() -> delete(db, seq))
          .as("DELETE of audit event %d", seq)
          .isInstanceOf(SQLException.class);
      assertThat(actionOf(db, seq)).as("the event after the refused changes").isEqualTo(action);

      try (Statement statement = db.createStatement()) {
        statement.execute("DROP TRIGGER audit_events_no_update");
        // Deleting is allowed only for events an archive batch holds (V5); drop that guard too.
        statement.execute("DROP TRIGGER audit_events_archived_only");
      }
      assertThat(setAction(db, seq, forged)).as("rows altered without the triggers").isEqualTo(1);
    }

    AuditVerification verification =
        platform.admin().audit().verifyAuditChain().block(CALL_TIMEOUT);

    assertThat(verification.getValid()).as("valid, with %s", verification).isFalse();
    assertThat(verification.getFirstBadSeq()).isEqualTo(seq);
  }

  /** An event from the middle of the chain, so that events before and after it exist. */
  private static long middleSeq(Connection db) throws SQLException {
    long count;
    try (Statement statement = db.createStatement();
        ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM audit_events")) {
      rows.next();
      count = rows.getLong(1);
    }
    assertThat(count).as("audit events so far").isGreaterThanOrEqualTo(3);
    try (PreparedStatement statement =
        db.prepareStatement("SELECT seq FROM audit_events ORDER BY seq LIMIT 1 OFFSET ?")) {
      statement.setLong(1, count / 2);
      try (ResultSet rows = statement.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }

  private static String actionOf(Connection db, long seq) throws SQLException {
    try (PreparedStatement statement =
        db.prepareStatement("SELECT action FROM audit_events WHERE seq = ?")) {
      statement.setLong(1, seq);
      try (ResultSet rows = statement.executeQuery()) {
        assertThat(rows.next()).as("audit event %d exists", seq).isTrue();
        return rows.getString(1);
      }
    }
  }

  private static int setAction(Connection db, long seq, String action) throws SQLException {
    try (PreparedStatement statement =
        db.prepareStatement("UPDATE audit_events SET action = ? WHERE seq = ?")) {
      statement.setString(1, action);
      statement.setLong(2, seq);
      return statement.executeUpdate();
    }
  }

  private static int delete(Connection db, long seq) throws SQLException {
    try (PreparedStatement statement =
        db.prepareStatement("DELETE FROM audit_events WHERE seq = ?")) {
      statement.setLong(1, seq);
      return statement.executeUpdate();
    }
  }
}
