package dev.airlock.platform.directory;

import dev.airlock.platform.api.DirectoryApi;
import dev.airlock.platform.api.model.DirectorySource;
import dev.airlock.platform.api.model.DirectorySourceSpec;
import dev.airlock.platform.api.model.FieldError;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.SecretCipher;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.role.RoleRepository;
import dev.airlock.platform.user.SessionRevoker;
import dev.airlock.platform.user.UserRepository;
import dev.airlock.platform.user.UserRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Serves {@code /api/v1/directory-sources}. The bind password is encrypted before it is stored and
 * never returned ({@code bindPasswordSet}); a replacement without one keeps the stored one. Changes
 * are audited as {@code directory_source.create/update/delete}, never with the secret. Removing a
 * source disables its users (never deletes them) and ends their sessions.
 */
@RestController
public class DirectorySourceHandler implements DirectoryApi {

  private static final String KIND = "directory_source";
  private static final Pattern ATTRIBUTE =
      Pattern.compile("^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\\.[0-9]+)*)$");

  private final DirectorySources sources;
  private final DirectoryUsers directoryUsers;
  private final UserRepository users;
  private final RoleRepository roles;
  private final SecretCipher cipher;
  private final SessionRevoker sessions;
  private final Access access;
  private final TransactionalOperator tx;
  private final Credentials credentials;

  public DirectorySourceHandler(
      DirectorySources sources,
      DirectoryUsers directoryUsers,
      UserRepository users,
      RoleRepository roles,
      SecretCipher cipher,
      SessionRevoker sessions,
      Access access,
      TransactionalOperator tx,
      Credentials credentials) {
    this.sources = sources;
    this.directoryUsers = directoryUsers;
    this.users = users;
    this.roles = roles;
    this.cipher = cipher;
    this.sessions = sessions;
    this.access = access;
    this.tx = tx;
    this.credentials = credentials;
  }

  @Override
  public Mono<ResponseEntity<Flux<DirectorySource>>> listDirectorySources(
      ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, null)
        .then(
            Mono.fromSupplier(
                () -> ResponseEntity.ok(sources.all().map(DirectorySourceRow::toApi))));
  }

  @Override
  public Mono<ResponseEntity<DirectorySource>> getDirectorySource(
      String sourceName, ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, sourceName)
        .then(existing(sourceName))
        .map(source -> ResponseEntity.ok(source.toApi()));
  }

  @Override
  public Mono<ResponseEntity<DirectorySource>> createDirectorySource(
      Mono<DirectorySourceSpec> body, ServerWebExchange exchange) {
    return body.flatMap(
        spec ->
            access
                .require(exchange, Map.of(), null, spec.getName())
                .then(validate(spec, null))
                .then(
                    Mono.fromCallable(
                            () -> {
                              UUID id = UUID.randomUUID();
                              Instant now = Rows.now();
                              return row(
                                  spec,
                                  id,
                                  cipher.encrypt(spec.getBindPassword(), id.toString()),
                                  now,
                                  now);
                            })
                        .subscribeOn(Schedulers.boundedElastic()))
                .flatMap(
                    row ->
                        tx.transactional(
                            sources
                                .insert(row)
                                .then(
                                    access.success(
                                        exchange,
                                        KIND + ".create",
                                        KIND,
                                        row.name(),
                                        describe(row)))))
                .onErrorMap(
                    DuplicateKeyException.class,
                    e ->
                        ApiProblem.conflict(
                            "A directory source named " + spec.getName() + " exists"))
                .then(sources.findByName(spec.getName()))
                .map(source -> ResponseEntity.status(HttpStatus.CREATED).body(source.toApi())));
  }

  @Override
  public Mono<ResponseEntity<DirectorySource>> replaceDirectorySource(
      String sourceName, Mono<DirectorySourceSpec> body, ServerWebExchange exchange) {
    return body.flatMap(
        spec ->
            access
                .require(exchange, Map.of(), null, sourceName)
                .then(existing(sourceName))
                .flatMap(
                    before ->
                        validate(spec, before)
                            .then(
                                Mono.fromCallable(
                                        () ->
                                            row(
                                                spec,
                                                before.id(),
                                                spec.getBindPassword() == null
                                                    ? before.sealedBindPassword()
                                                    : cipher.encrypt(
                                                        spec.getBindPassword(),
                                                        before.id().toString()),
                                                before.createdAt(),
                                                Rows.now()))
                                    .subscribeOn(Schedulers.boundedElastic()))
                            .flatMap(
                                row ->
                                    tx.transactional(
                                        sources
                                            .update(row)
                                            .then(
                                                access.success(
                                                    exchange,
                                                    KIND + ".update",
                                                    KIND,
                                                    row.name(),
                                                    describe(row)
                                                        + (spec.getBindPassword() == null
                                                            ? ""
                                                            : ", bind password replaced"))))))
                .then(sources.findByName(sourceName))
                .map(source -> ResponseEntity.ok(source.toApi())));
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteDirectorySource(
      String sourceName, ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, sourceName)
        .then(existing(sourceName))
        .flatMap(
            source ->
                users
                    .findByDirectorySource(source.id())
                    .collectList()
                    .flatMap(
                        members ->
                            tx.transactional(
                                Flux.fromIterable(members)
                                    .filter(user -> !user.disabled())
                                    .concatMap(user -> disable(exchange, source, user))
                                    .collectList()
                                    .flatMap(
                                        ended ->
                                            sources
                                                .delete(source.id())
                                                .then(
                                                    access.success(
                                                        exchange,
                                                        KIND + ".delete",
                                                        KIND,
                                                        source.name(),
                                                        ended.size()
                                                            + " of its "
                                                            + members.size()
                                                            + " users disabled"))
                                                .thenReturn(ended)))))
        .doOnSuccess(ended -> credentials.invalidate())
        .flatMapMany(Flux::fromIterable)
        .concatMap(sessions::cut)
        .then(Mono.fromSupplier(() -> ResponseEntity.noContent().<Void>build()));
  }

  private Mono<List<SessionRevoker.LiveSession>> disable(
      ServerWebExchange exchange, DirectorySourceRow source, UserRow user) {
    return directoryUsers
        .disable(user, "account's directory source removed")
        .flatMap(
            live ->
                access
                    .success(
                        exchange,
                        "user.disable",
                        "user",
                        user.id() + " (" + user.username() + ")",
                        source.userSource() + ": the directory source was removed")
                    .thenReturn(live));
  }

  private Mono<DirectorySourceRow> existing(String name) {
    return sources
        .findByName(name)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("directory source", name)));
  }

  /**
   * Completes when {@code spec} is a usable source ({@code before}: the source it replaces, or null
   * for a new one); otherwise fails with a validation problem naming every wrong field.
   */
  private Mono<Void> validate(DirectorySourceSpec spec, DirectorySourceRow before) {
    List<FieldError> errors = new ArrayList<>();
    if (before != null && !before.name().equals(spec.getName())) {
      errors.add(
          new FieldError(
              "name",
              "must be the name in the path ("
                  + before.name()
                  + "); a source cannot be renamed (add a new one)"));
    }
    boolean ldaps = spec.getUrl().regionMatches(true, 0, "ldaps:", 0, 6);
    if (ldaps && Boolean.TRUE.equals(spec.getStartTls())) {
      errors.add(
          new FieldError(
              "startTls",
              "StartTLS upgrades an ldap:// connection; an ldaps:// one is TLS from the start"));
    }
    if (!ldaps
        && !Boolean.TRUE.equals(spec.getStartTls())
        && !Boolean.TRUE.equals(spec.getAllowPlaintext())) {
      errors.add(
          new FieldError(
              "url",
              "ldap:// without StartTLS sends passwords in clear (expected: ldaps://, or startTls:"
                  + " true, or allowPlaintext: true for a lab)"));
    }
    if (before == null && spec.getBindPassword() == null) {
      errors.add(new FieldError("bindPassword", "required when a source is created"));
    }
    dn(errors, "bindDn", spec.getBindDn());
    dn(errors, "userBase", spec.getUserBase());
    if (spec.getGroupBase() != null && !spec.getGroupBase().isBlank()) {
      dn(errors, "groupBase", spec.getGroupBase());
    }
    filter(errors, "userFilter", spec.getUserFilter());
    filter(errors, "groupFilter", spec.getGroupFilter());
    DirectorySourceRow.Mapping map = DirectorySourceRow.Mapping.of(spec.getAttributes());
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("username", map.username());
    attributes.put("displayName", map.displayName());
    attributes.put("email", map.email());
    attributes.put("groupName", map.groupName());
    attributes.put("groupMember", map.groupMember());
    attributes.forEach(
        (field, value) -> {
          if (value == null || !ATTRIBUTE.matcher(value).matches()) {
            errors.add(
                new FieldError(
                    "attributes." + field,
                    "not an LDAP attribute name: "
                        + value
                        + " (expected: letters, digits and dashes, or an OID)"));
          }
        });
    spec.getGroupRoles()
        .keySet()
        .forEach(
            group -> {
              if (group.isBlank() || group.length() > 256) {
                errors.add(
                    new FieldError(
                        "groupRoles",
                        "a group name must have 1 to 256 characters: '" + group + "'"));
              }
            });
    Mono<Void> certificate = Mono.empty();
    if (spec.getCaCertificate() != null && !spec.getCaCertificate().isBlank()) {
      certificate =
          Mono.fromRunnable(() -> DirectoryTls.certificates(spec.getCaCertificate()))
              .subscribeOn(Schedulers.boundedElastic())
              .onErrorResume(
                  IllegalArgumentException.class,
                  e -> {
                    errors.add(new FieldError("caCertificate", e.getMessage()));
                    return Mono.empty();
                  })
              .then();
    }
    Set<String> groupRoleNames = new TreeSet<>();
    spec.getGroupRoles().values().forEach(groupRoleNames::addAll);
    Set<String> all = new HashSet<>(groupRoleNames);
    all.addAll(spec.getDefaultRoles());
    return certificate
        .then(roles.missing(all))
        .flatMap(
            missing -> {
              Set<String> missingDefault = new TreeSet<>(spec.getDefaultRoles());
              missingDefault.retainAll(missing);
              Set<String> missingGroup = new TreeSet<>(groupRoleNames);
              missingGroup.retainAll(missing);
              if (!missingDefault.isEmpty()) {
                errors.add(new FieldError("defaultRoles", "no such role: " + missingDefault));
              }
              if (!missingGroup.isEmpty()) {
                errors.add(new FieldError("groupRoles", "no such role: " + missingGroup));
              }
              return errors.isEmpty()
                  ? Mono.<Void>empty()
                  : Mono.error(ApiProblem.validation(errors));
            });
  }

  private static void dn(List<FieldError> errors, String field, String value) {
    try {
      new LdapName(value);
    } catch (InvalidNameException | IllegalArgumentException e) {
      errors.add(
          new FieldError(
              field, "not a DN: " + value + " (expected e.g. ou=people,dc=example,dc=com)"));
    }
  }

  private static void filter(List<FieldError> errors, String field, String value) {
    int depth = 0;
    boolean balanced = value.startsWith("(") && value.endsWith(")");
    for (int i = 0; i < value.length() && balanced; i++) {
      char c = value.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
        balanced = depth > 0 || i == value.length() - 1;
      }
    }
    if (!balanced || depth != 0) {
      errors.add(
          new FieldError(
              field,
              "not an LDAP filter: "
                  + value
                  + " (expected one parenthesised filter, e.g. (objectClass=inetOrgPerson))"));
    }
  }

  private static DirectorySourceRow row(
      DirectorySourceSpec spec, UUID id, String sealedPassword, Instant created, Instant updated) {
    Map<String, List<String>> groupRoles = new LinkedHashMap<>();
    spec.getGroupRoles()
        .forEach((group, names) -> groupRoles.put(group, List.copyOf(new TreeSet<>(names))));
    return new DirectorySourceRow(
        id,
        spec.getName(),
        spec.getUrl(),
        Boolean.TRUE.equals(spec.getStartTls()),
        Boolean.TRUE.equals(spec.getAllowPlaintext()),
        blankToNull(spec.getCaCertificate()),
        spec.getBindDn(),
        sealedPassword,
        spec.getUserBase(),
        spec.getUserFilter(),
        blankToNull(spec.getGroupBase()),
        spec.getGroupFilter(),
        DirectorySourceRow.Mapping.of(spec.getAttributes()),
        groupRoles,
        List.copyOf(new TreeSet<>(spec.getDefaultRoles())),
        !Boolean.FALSE.equals(spec.getEnabled()),
        created,
        updated,
        null,
        null,
        0);
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  /** The settings worth an audit line (never the bind password). */
  private static String describe(DirectorySourceRow source) {
    return source.url()
        + (source.startTls() ? " (StartTLS)" : "")
        + (source.allowPlaintext() ? " (plaintext allowed)" : "")
        + ", bind DN "
        + source.bindDn()
        + ", users "
        + source.userBase()
        + (source.groupBase() == null ? "" : ", groups " + source.groupBase())
        + (source.enabled() ? "" : ", disabled");
  }
}
