package dev.airlock.platform.image;

import dev.airlock.platform.api.ImagesApi;
import dev.airlock.platform.api.model.Image;
import dev.airlock.platform.api.model.ImagePage;
import dev.airlock.platform.api.model.ImageSpec;
import dev.airlock.platform.api.model.ImageVariable;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Serves the images operations. An image's labels are what {@code image:*} and {@code
 * container:create} rules select on.
 */
@RestController
public class ImageHandler implements ImagesApi {

  private final ImageRepository images;
  private final Access access;
  private final TransactionalOperator tx;
  private final DatabaseClient db;

  public ImageHandler(
      ImageRepository images, Access access, TransactionalOperator tx, DatabaseClient db) {
    this.images = images;
    this.access = access;
    this.tx = tx;
    this.db = db;
  }

  @Override
  public Mono<ResponseEntity<ImagePage>> listImages(
      Integer limit, String cursor, ServerWebExchange exchange) {
    String after = Cursors.decodeName(cursor);
    return images
        .page(after, limit + 1)
        .filter(image -> Access.allows(exchange, image.getLabels(), null))
        .collectList()
        .map(
            list -> {
              ImagePage page = new ImagePage(list.size() > limit ? list.subList(0, limit) : list);
              if (list.size() > limit) {
                page.setNextCursor(Cursors.encode(list.get(limit - 1).getName()));
              }
              return ResponseEntity.ok(page);
            });
  }

  @Override
  public Mono<ResponseEntity<Image>> createImage(Mono<ImageSpec> body, ServerWebExchange exchange) {
    return body.flatMap(
        spec -> {
          check(spec);
          UUID id = UUID.randomUUID();
          return access
              .require(exchange, spec.getLabels(), null, spec.getName())
              .then(
                  tx.transactional(
                      images
                          .insert(id, spec)
                          .then(
                              access.success(
                                  exchange,
                                  "image.create",
                                  "image",
                                  spec.getName() + " (" + spec.getReference() + ")"))))
              .onErrorMap(
                  DuplicateKeyException.class,
                  e -> ApiProblem.conflict("An image named " + spec.getName() + " exists already"))
              .then(images.findById(id))
              .map(image -> ResponseEntity.status(HttpStatus.CREATED).body(image));
        });
  }

  @Override
  public Mono<ResponseEntity<Image>> getImage(String imageName, ServerWebExchange exchange) {
    return find(imageName)
        .flatMap(
            image ->
                access
                    .require(exchange, image.getLabels(), null, imageName)
                    .thenReturn(ResponseEntity.ok(image)));
  }

  @Override
  public Mono<ResponseEntity<Image>> updateImage(
      String imageName, Mono<ImageSpec> body, ServerWebExchange exchange) {
    return body.flatMap(
        spec -> {
          check(spec);
          return find(imageName)
              .flatMap(
                  current ->
                      access
                          .require(exchange, current.getLabels(), null, imageName)
                          .then(access.require(exchange, spec.getLabels(), null, imageName))
                          .then(
                              tx.transactional(
                                  images
                                      .update(imageName, spec)
                                      .then(
                                          access.success(
                                              exchange,
                                              "image.update",
                                              "image",
                                              spec.getName()
                                                  + " ("
                                                  + spec.getReference()
                                                  + ", warm pool "
                                                  + spec.getWarmPool()
                                                  + ")"))))
                          .onErrorMap(
                              DuplicateKeyException.class,
                              e ->
                                  ApiProblem.conflict(
                                      "An image named " + spec.getName() + " exists already"))
                          .then(images.findById(current.getId())))
              .map(ResponseEntity::ok);
        });
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteImage(String imageName, ServerWebExchange exchange) {
    return find(imageName)
        .flatMap(
            image ->
                access
                    .require(exchange, image.getLabels(), null, imageName)
                    .then(
                        db.sql(
                                "SELECT COUNT(*) AS n FROM containers WHERE image_id = :id AND NOT"
                                    + " warm AND state NOT IN ('deleted', 'failed')")
                            .bind("id", image.getId().toString())
                            .map(row -> row.get("n", Long.class))
                            .one())
                    .flatMap(
                        running ->
                            running > 0
                                ? Mono.error(
                                    ApiProblem.conflict(
                                        running
                                            + " container(s) of image "
                                            + imageName
                                            + " are not deleted yet; delete them first"))
                                : tx.transactional(
                                    images
                                        .delete(image.getId())
                                        .then(
                                            access.success(
                                                exchange, "image.delete", "image", imageName)))))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<Image> find(String name) {
    return images
        .findByName(name)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("image", name)));
  }

  /** What the schema cannot say: TTLs in order, variable names unique. */
  static void check(ImageSpec spec) {
    int max = spec.getMaxTtlSeconds() == null ? 14_400 : spec.getMaxTtlSeconds();
    int fallback =
        spec.getDefaultTtlSeconds() == null ? Math.min(3_600, max) : spec.getDefaultTtlSeconds();
    if (spec.getDefaultTtlSeconds() == null) {
      spec.setDefaultTtlSeconds(fallback);
    }
    if (fallback > max) {
      throw ApiProblem.validation(
          "defaultTtlSeconds",
          fallback + " is longer than maxTtlSeconds " + max + " (expected: at most " + max + ")");
    }
    if (spec.getEnvironment() != null) {
      Set<String> names = new HashSet<>();
      for (ImageVariable variable : spec.getEnvironment()) {
        if (variable.getName().startsWith("AIRLOCK_")) {
          throw ApiProblem.validation(
              "environment",
              variable.getName() + " is reserved (expected: a name not starting with AIRLOCK_)");
        }
        if (!names.add(variable.getName())) {
          throw ApiProblem.validation(
              "environment", variable.getName() + " appears twice (expected: unique names)");
        }
      }
    }
  }
}
