package dev.airlock.platform.database;

import dev.airlock.platform.AirlockProperties;
import io.asyncer.r2dbc.mysql.MySqlConnectionConfiguration;
import io.asyncer.r2dbc.mysql.MySqlConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ValidationDepth;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.ZoneOffset;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;

/**
 * Connects the platform to its database: the configured MySQL/MariaDB server, or the embedded
 * MariaDB when none is configured. Migrations run (over JDBC, once, at start-up) before the R2DBC
 * pool that serves requests opens.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

  private static final Logger log = LoggerFactory.getLogger(DatabaseConfiguration.class);

  @Bean(destroyMethod = "close")
  EmbeddedDatabase embeddedDatabase(AirlockProperties properties) {
    return EmbeddedDatabase.startIfNeeded(properties);
  }

  @Bean
  MigratedDatabase migratedDatabase(EmbeddedDatabase embedded) {
    DatabaseUrl url = embedded.url();
    createDatabaseIfMissing(url);
    var result =
        Flyway.configure()
            .dataSource(url.jdbcUrl(), url.user(), url.password())
            .locations("classpath:db/migration")
            .load()
            .migrate();
    log.info(
        "Database {} is at schema version {} ({} migrations applied now)",
        url,
        result.targetSchemaVersion == null ? "current" : result.targetSchemaVersion,
        result.migrationsExecuted);
    return new MigratedDatabase(url);
  }

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionFactory(MigratedDatabase database, AirlockProperties properties) {
    DatabaseUrl url = database.url();
    MySqlConnectionFactory factory =
        MySqlConnectionFactory.from(
            MySqlConnectionConfiguration.builder()
                .host(url.host())
                .port(url.port())
                .user(url.user())
                .password(url.password())
                .database(url.database())
                .connectTimeout(Duration.ofSeconds(5))
                .connectionTimeZone(ZoneOffset.UTC.getId())
                // A request waits at most this long for a row lock or a statement, then fails
                // visibly (503) instead of holding its caller.
                .lockWaitTimeout(Duration.ofSeconds(5))
                .statementTimeout(Duration.ofSeconds(30))
                .build());
    return new ConnectionPool(
        ConnectionPoolConfiguration.builder(factory)
            .name("airlock")
            .initialSize(2)
            .maxSize(properties.database().poolSize())
            .maxIdleTime(Duration.ofMinutes(10))
            .maxAcquireTime(Duration.ofSeconds(5))
            // Validated locally (is the socket open?) rather than with a query per acquire, which
            // doubled the round trips of every request.
            .validationDepth(ValidationDepth.LOCAL)
            .build());
  }

  @Bean
  ReactiveTransactionManager transactionManager(ConnectionFactory connectionFactory) {
    return new R2dbcTransactionManager(connectionFactory);
  }

  @Bean
  TransactionalOperator transactionalOperator(ReactiveTransactionManager transactionManager) {
    return TransactionalOperator.create(transactionManager);
  }

  private static void createDatabaseIfMissing(DatabaseUrl url) {
    try (var connection =
            DriverManager.getConnection(url.jdbcServerUrl(), url.user(), url.password());
        var statement = connection.createStatement()) {
      statement.execute(
          "CREATE DATABASE IF NOT EXISTS `"
              + url.database()
              + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot reach or prepare the database "
              + url
              + ": "
              + e.getMessage()
              + " (check airlock.database.url / AIRLOCK_DATABASE_URL)",
          e);
    }
  }

  /** The database after its migrations ran; what the connection pool depends on. */
  public record MigratedDatabase(DatabaseUrl url) {}
}
