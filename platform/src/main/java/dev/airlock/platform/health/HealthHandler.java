package dev.airlock.platform.health;

import dev.airlock.platform.api.HealthApi;
import dev.airlock.platform.api.model.Health;
import dev.airlock.platform.api.model.HealthStatus;
import java.time.Duration;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Reports UP when the database answers within two seconds, DOWN (503) otherwise. */
@RestController
public class HealthHandler implements HealthApi {

  private static final String VERSION =
      HealthHandler.class.getPackage().getImplementationVersion() == null
          ? "dev"
          : HealthHandler.class.getPackage().getImplementationVersion();

  private final DatabaseClient db;

  public HealthHandler(DatabaseClient db) {
    this.db = db;
  }

  @Override
  public Mono<ResponseEntity<Health>> getHealth(ServerWebExchange exchange) {
    return db.sql("SELECT 1")
        .map(row -> 1)
        .one()
        .timeout(Duration.ofSeconds(2))
        .map(ok -> ResponseEntity.ok(new Health(HealthStatus.UP, HealthStatus.UP, VERSION)))
        .onErrorResume(
            e ->
                Mono.just(
                    ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                        .body(new Health(HealthStatus.DOWN, HealthStatus.DOWN, VERSION))));
  }
}
