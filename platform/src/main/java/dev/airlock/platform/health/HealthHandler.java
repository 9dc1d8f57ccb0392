package dev.airlock.platform.health;

import dev.airlock.platform.api.HealthApi;
import dev.airlock.platform.api.model.Health;
import dev.airlock.platform.api.model.HealthStatus;
import dev.airlock.platform.user.InitialAdmin;
import java.time.Duration;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Reports UP when the platform is ready for its first login and the database answers within two
 * seconds; DOWN (503) otherwise, including while the first start is still creating the first
 * administrator.
 */
@RestController
public class HealthHandler implements HealthApi {

  private static final String VERSION =
      HealthHandler.class.getPackage().getImplementationVersion() == null
          ? "dev"
          : HealthHandler.class.getPackage().getImplementationVersion();

  private final DatabaseClient db;
  private final InitialAdmin initialAdmin;

  public HealthHandler(DatabaseClient db, InitialAdmin initialAdmin) {
    this.db = db;
    this.initialAdmin = initialAdmin;
  }

  @Override
  public Mono<ResponseEntity<Health>> getHealth(ServerWebExchange exchange) {
    return db.sql("SELECT 1")
        .map(row -> 1)
        .one()
        .timeout(Duration.ofSeconds(2))
        .map(
            ok ->
                initialAdmin.ready()
                    ? ResponseEntity.ok(new Health(HealthStatus.UP, HealthStatus.UP, VERSION))
                    : ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                        .body(new Health(HealthStatus.DOWN, HealthStatus.UP, VERSION)))
        .onErrorResume(
            e ->
                Mono.just(
                    ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                        .body(new Health(HealthStatus.DOWN, HealthStatus.DOWN, VERSION))));
  }
}
