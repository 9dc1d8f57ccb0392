package dev.airlock.platform.directory;

import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.SecretCipher;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import dev.airlock.platform.role.RoleRepository;
import dev.airlock.platform.user.SessionRevoker;
import dev.airlock.platform.user.UserRepository;
import dev.airlock.platform.user.UserRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The {@code directory-sync} job: for each enabled directory source, reads its users and groups
 * (off the event loops) and brings Airlock's users in line. New entries become users ({@code
 * directory:<source>}, with an unusable local password: they log in with their directory password);
 * names and e-mail addresses follow the directory; roles become the union of their groups' {@code
 * groupRoles} and the source's {@code defaultRoles} (roles set by hand are replaced); users the
 * directory no longer returns are disabled (never deleted) and lose their sessions, API keys and
 * live remote sessions; users it returns again are enabled. A local user is never taken over: an
 * entry with a local user's name is skipped and reported. Every change is audited as {@code
 * system}.
 *
 * <p>A source that cannot be read (unreachable, bind refused) keeps its users as they are, records
 * {@code lastSyncError}, and fails the run with a message naming it; the other sources still sync.
 * Each user's change is one transaction, so a run killed halfway leaves consistent users and the
 * next run finishes the work.
 */
@Component
public class DirectorySync implements Job {

  /** The job's name. */
  public static final String JOB = "directory-sync";

  private static final Logger log = LoggerFactory.getLogger(DirectorySync.class);
  private static final Pattern USERNAME = Pattern.compile("^[a-z0-9][a-z0-9._@-]{0,63}$");
  private static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s]+$");
  private static final int MAX_REPORTED = 10;

  private final DirectorySources sources;
  private final DirectoryUsers directoryUsers;
  private final UserRepository users;
  private final RoleRepository roles;
  private final SecretCipher cipher;
  private final SessionRevoker sessions;
  private final AuditLog audit;
  private final TransactionalOperator tx;
  private final Credentials credentials;

  public DirectorySync(
      DirectorySources sources,
      DirectoryUsers directoryUsers,
      UserRepository users,
      RoleRepository roles,
      SecretCipher cipher,
      SessionRevoker sessions,
      AuditLog audit,
      TransactionalOperator tx,
      Credentials credentials) {
    this.sources = sources;
    this.directoryUsers = directoryUsers;
    this.users = users;
    this.roles = roles;
    this.cipher = cipher;
    this.sessions = sessions;
    this.audit = audit;
    this.tx = tx;
    this.credentials = credentials;
  }

  @Override
  public String name() {
    return JOB;
  }

  @Override
  public String description() {
    return "Synchronises users and group roles from the LDAP directory sources: creates, updates,"
        + " and disables users the directory no longer has.";
  }

  @Override
  public String defaultCron() {
    return "0 */15 * * * *";
  }

  @Override
  public Mono<String> run(JobContext run) {
    for (String count :
        List.of(
            "users.created",
            "users.updated",
            "users.disabled",
            "users.unchanged",
            "users.skipped",
            "sources.synced",
            "sources.failed")) {
      run.add(count, 0);
    }
    return sources
        .all()
        .filter(DirectorySourceRow::enabled)
        .concatMap(source -> syncOne(source, run))
        .collectList()
        .flatMap(
            results -> {
              credentials.invalidate();
              List<String> failed =
                  results.stream().filter(r -> r.error() != null).map(Result::describe).toList();
              String summary =
                  results.isEmpty()
                      ? "no enabled directory source"
                      : String.join("; ", results.stream().map(Result::describe).toList());
              if (!failed.isEmpty()) {
                return Mono.error(
                    new DirectoryException(
                        (failed.size() == 1 ? "a directory source failed: " : "sources failed: ")
                            + String.join("; ", failed)
                            + (results.size() > failed.size()
                                ? " (the others synced: "
                                    + String.join(
                                        "; ",
                                        results.stream()
                                            .filter(r -> r.error() == null)
                                            .map(Result::describe)
                                            .toList())
                                    + ")"
                                : "")));
              }
              return Mono.just(summary);
            });
  }

  private Mono<Result> syncOne(DirectorySourceRow source, JobContext run) {
    return Mono.fromCallable(
            () ->
                new DirectoryServer(
                        source, cipher.decrypt(source.sealedBindPassword(), source.id().toString()))
                    .read())
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(snapshot -> apply(source, snapshot, run))
        .flatMap(result -> sources.synced(source.id(), Rows.now()).thenReturn(result))
        .doOnNext(result -> run.add("sources.synced", 1))
        .onErrorResume(
            e -> {
              String message = message(e);
              log.warn("directory source {}: sync failed: {}", source.name(), message);
              run.add("sources.failed", 1);
              return sources
                  .failed(source.id(), message)
                  .onErrorResume(
                      recording -> {
                        log.warn(
                            "directory source {}: cannot record the failure: {}",
                            source.name(),
                            recording.toString());
                        return Mono.empty();
                      })
                  .thenReturn(Result.failed(source.name(), message));
            });
  }

  private static String message(Throwable e) {
    if (e instanceof DirectoryException || e instanceof SecretCipher.UndecryptableSecret) {
      return e.getMessage();
    }
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /** Brings the users of {@code source} in line with what its directory returned. */
  private Mono<Result> apply(
      DirectorySourceRow source, DirectoryServer.Snapshot snapshot, JobContext run) {
    Result result = new Result(source.name(), run);
    Set<UUID> directoryDisabled = new HashSet<>();
    Map<String, Desired> wanted = new LinkedHashMap<>();
    Set<String> usernames = new HashSet<>();
    Map<String, Set<String>> rolesByMember = rolesByMember(source, snapshot.groups());
    for (DirectoryServer.Entry entry : snapshot.users()) {
      if (entry.username() == null || !USERNAME.matcher(entry.username()).matches()) {
        result.skip(
            entry.dn()
                + " (its "
                + source.attributes().username()
                + " is not a valid Airlock username: "
                + entry.username()
                + ")");
        continue;
      }
      if (!usernames.add(entry.username())) {
        result.skip(entry.username() + " (two directory entries have that name)");
        continue;
      }
      Set<String> userRoles = new TreeSet<>(source.defaultRoles());
      String dn = DirectoryServer.normalise(entry.dn());
      userRoles.addAll(rolesByMember.getOrDefault(dn, Set.of()));
      userRoles.addAll(rolesByMember.getOrDefault(entry.username(), Set.of()));
      wanted.put(entry.key(), new Desired(entry, userRoles));
    }
    Set<String> mentioned = new HashSet<>();
    wanted.values().forEach(d -> mentioned.addAll(d.roles()));
    return roles
        .missing(mentioned)
        .flatMap(
            missing -> {
              if (!missing.isEmpty()) {
                result.note("roles that do not exist were left out: " + new TreeSet<>(missing));
                wanted.values().forEach(d -> d.roles().removeAll(missing));
              }
              return Mono.zip(
                  users.findByDirectorySource(source.id()).collectList(),
                  directoryUsers.disabledByDirectory(source));
            })
        .flatMap(
            current -> {
              Map<String, UserRow> byKey = new HashMap<>();
              current.getT1().forEach(u -> byKey.put(u.externalKey(), u));
              directoryDisabled.addAll(current.getT2());
              Mono<Void> present =
                  Flux.fromIterable(wanted.entrySet())
                      .concatMap(
                          e -> {
                            UserRow existing = byKey.get(e.getKey());
                            return existing != null
                                ? update(
                                    source,
                                    existing,
                                    e.getValue(),
                                    directoryDisabled.contains(existing.id()),
                                    result,
                                    run)
                                : create(source, e.getValue(), directoryDisabled, result, run);
                          })
                      .then();
              Mono<Void> gone =
                  Flux.fromIterable(current.getT1())
                      .filter(u -> !wanted.containsKey(u.externalKey()))
                      .concatMap(u -> disable(source, u, result, run))
                      .then();
              return present.then(gone);
            })
        .thenReturn(result);
  }

  /** Directory group members (normalised DNs and usernames) → the roles their groups give. */
  private static Map<String, Set<String>> rolesByMember(
      DirectorySourceRow source, List<DirectoryServer.Group> groups) {
    Map<String, List<String>> rolesByGroup = new HashMap<>();
    source
        .groupRoles()
        .forEach((group, names) -> rolesByGroup.put(group.toLowerCase(Locale.ROOT), names));
    Map<String, Set<String>> byMember = new HashMap<>();
    for (DirectoryServer.Group group : groups) {
      List<String> granted =
          group.name() == null ? null : rolesByGroup.get(group.name().toLowerCase(Locale.ROOT));
      if (granted == null || granted.isEmpty()) {
        continue;
      }
      for (String member : group.members()) {
        byMember.computeIfAbsent(member, m -> new TreeSet<>()).addAll(granted);
      }
    }
    return byMember;
  }

  private Mono<Void> create(
      DirectorySourceRow source,
      Desired desired,
      Set<UUID> directoryDisabled,
      Result result,
      JobContext run) {
    DirectoryServer.Entry entry = desired.entry();
    return users
        .findByUsername(entry.username())
        .singleOptional()
        .flatMap(
            found -> {
              if (found.isPresent()) {
                UserRow other = found.get();
                if (other.directorySourceId() == null
                    && source.userSource().equals(other.source())
                    && entry.key().equalsIgnoreCase(String.valueOf(other.externalKey()))) {
                  // Left behind when a source of this name was removed: the same entry, back.
                  return directoryUsers
                      .adopt(other.id(), source.id())
                      .then(
                          update(
                              source,
                              other,
                              desired,
                              directoryDisabled.contains(other.id()),
                              result,
                              run));
                }
                result.skip(
                    entry.username()
                        + (other.fromDirectory()
                            ? " (a user of " + other.source() + " has that name)"
                            : " (a local user has that name)"));
                return Mono.empty();
              }
              Instant now = Rows.now();
              UUID id = UUID.randomUUID();
              UserRow row =
                  new UserRow(
                      id,
                      0,
                      entry.username(),
                      displayName(entry),
                      email(entry),
                      // Not a password hash of anything: the local password can never match.
                      "!directory:" + Secrets.token(""),
                      Map.of(),
                      false,
                      false,
                      0,
                      null,
                      now,
                      now,
                      null,
                      List.copyOf(desired.roles()),
                      source.userSource(),
                      source.id(),
                      entry.key());
              return tx.transactional(
                      users
                          .insert(row)
                          .then(
                              audit.append(
                                  system(
                                      "user.create",
                                      row,
                                      source.userSource() + ": roles " + desired.roles()))))
                  .doOnSuccess(
                      done -> {
                        result.created++;
                        run.add("users.created", 1);
                      })
                  .onErrorResume(
                      DuplicateKeyException.class,
                      e -> {
                        result.skip(entry.username() + " (another user took that name meanwhile)");
                        return Mono.empty();
                      });
            });
  }

  private Mono<Void> update(
      DirectorySourceRow source,
      UserRow before,
      Desired desired,
      boolean directoryDisabled,
      Result result,
      JobContext run) {
    DirectoryServer.Entry entry = desired.entry();
    List<String> changed = new ArrayList<>();
    String displayName = displayName(entry);
    String email = email(entry);
    if (!Objects.equals(displayName, before.displayName())) {
      changed.add("displayName");
    }
    if (!Objects.equals(email, before.email())) {
      changed.add("email");
    }
    boolean rolesChanged = !new TreeSet<>(before.roles()).equals(desired.roles());
    if (rolesChanged) {
      changed.add("roles " + desired.roles());
    }
    // Only a user the directory itself had disabled comes back; an administrator's choice stays.
    boolean enable = before.disabled() && directoryDisabled;
    if (enable) {
      changed.add("enabled");
    }
    Mono<String> username = Mono.just(before.username());
    if (!entry.username().equals(before.username())) {
      username =
          users
              .findByUsername(entry.username())
              .map(
                  taken -> {
                    result.note(
                        "kept "
                            + before.username()
                            + " (the directory renamed it "
                            + entry.username()
                            + ", which another user has)");
                    return before.username();
                  })
              .switchIfEmpty(
                  Mono.fromSupplier(
                      () -> {
                        changed.add("username (was " + before.username() + ")");
                        return entry.username();
                      }));
    }
    return username.flatMap(
        name -> {
          if (changed.isEmpty()) {
            result.unchanged++;
            run.add("users.unchanged", 1);
            return Mono.empty();
          }
          boolean disabled = before.disabled() && !enable;
          return tx.transactional(
                  directoryUsers
                      .update(before.id(), name, displayName, email, disabled)
                      .then(
                          rolesChanged
                              ? users.setRoles(before.id(), desired.roles())
                              : Mono.empty())
                      .then(
                          audit.append(
                              system(
                                  "user.update",
                                  before,
                                  source.userSource() + ": " + String.join(", ", changed)))))
              .doOnSuccess(
                  done -> {
                    result.updated++;
                    run.add("users.updated", 1);
                  });
        });
  }

  private Mono<Void> disable(
      DirectorySourceRow source, UserRow user, Result result, JobContext run) {
    if (user.disabled()) {
      result.unchanged++;
      run.add("users.unchanged", 1);
      return Mono.empty();
    }
    String reason = source.userSource() + ": no longer returned by the directory";
    return tx.transactional(
            directoryUsers
                .disable(user, "account disabled by the directory")
                .flatMap(
                    live -> audit.append(system("user.disable", user, reason)).thenReturn(live)))
        .doOnSuccess(
            live -> {
              result.disabled++;
              run.add("users.disabled", 1);
              credentials.invalidate();
            })
        .flatMap(sessions::cut);
  }

  private static AuditRecord system(String action, UserRow user, String reason) {
    return new AuditRecord(
        "system",
        null,
        action,
        "user",
        user.id() + " (" + user.username() + ")",
        AuditOutcome.SUCCESS,
        reason,
        null);
  }

  private static String displayName(DirectoryServer.Entry entry) {
    String name = entry.displayName();
    if (name == null || name.isBlank()) {
      return null;
    }
    return name.length() <= 128 ? name : name.substring(0, 128);
  }

  private static String email(DirectoryServer.Entry entry) {
    String email = entry.email();
    if (email == null || email.length() > 254 || !EMAIL.matcher(email.trim()).matches()) {
      return null;
    }
    return email.trim();
  }

  /** A directory entry and the roles it should hold. */
  private record Desired(DirectoryServer.Entry entry, Set<String> roles) {}

  /** What a run did to one source. */
  private static final class Result {
    final String source;
    final JobContext run;
    String error;
    int created;
    int updated;
    int disabled;
    int unchanged;
    final List<String> skipped = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    Result(String source, JobContext run) {
      this.source = source;
      this.run = run;
    }

    static Result failed(String source, String error) {
      Result result = new Result(source, null);
      result.error = error;
      return result;
    }

    String error() {
      return error;
    }

    /** A directory entry that did not become (or stay linked to) a user. */
    void skip(String what) {
      skipped.add(what);
      run.add("users.skipped", 1);
    }

    void note(String what) {
      notes.add(what);
    }

    String describe() {
      if (error != null) {
        return source + ": " + error;
      }
      StringBuilder text =
          new StringBuilder(source)
              .append(": ")
              .append(created)
              .append(" created, ")
              .append(updated)
              .append(" updated, ")
              .append(disabled)
              .append(" disabled, ")
              .append(unchanged)
              .append(" unchanged");
      if (!skipped.isEmpty()) {
        text.append(", ")
            .append(skipped.size())
            .append(" skipped: ")
            .append(String.join(", ", skipped.subList(0, Math.min(MAX_REPORTED, skipped.size()))));
        if (skipped.size() > MAX_REPORTED) {
          text.append(" and ").append(skipped.size() - MAX_REPORTED).append(" more");
        }
      }
      notes.forEach(note -> text.append("; ").append(note));
      return text.toString();
    }
  }
}
