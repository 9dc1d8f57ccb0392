package dev.airlock.platform.directory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.api.model.JobOutcome;
import dev.airlock.platform.api.model.JobRun;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.web.reactive.server.EntityExchangeResult;

/**
 * Directory sync and directory logins against the real OpenLDAP slapd of {@code
 * deploy/test-deps.sh}: users and groups loaded into it through the administrator's bind, sources
 * configured through the API, the {@code directory-sync} job run through the API, and what users
 * and administrators then see.
 */
class DirectorySyncTest extends PlatformTestBase {

  private static TestDirectory classDirectory;

  /** This test's own subtree of the directory. */
  private TestDirectory directory;

  @Autowired DatabaseClient db;

  private final List<String> sourcesToRemove = new ArrayList<>();

  @BeforeAll
  static void loadDirectory() {
    classDirectory = TestDirectory.forClass(DirectorySyncTest.class);
  }

  @BeforeEach
  void ownSubtree(TestInfo test) {
    directory =
        classDirectory.child(
            test.getTestMethod().orElseThrow().getName().substring(0, 12) + "-" + suffix());
  }

  /** A failing source left behind would fail every later run of the job. */
  @AfterEach
  void removeSources() throws Exception {
    for (String name : sourcesToRemove) {
      http.delete()
          .uri("/api/v1/directory-sources/{name}", name)
          .headers(h -> h.setBearerAuth(admin()))
          .exchange();
    }
  }

  @Test
  void initialSyncCreatesUsersWithTheirGroupsRolesAndTheyLogInWithTheirDirectoryPassword()
      throws Exception {
    String s = suffix();
    String ops = role("ops-" + s);
    String viewer = role("viewer-" + s);
    String everyone = role("everyone-" + s);
    String alice = "alice-" + s;
    String bob = "bob-" + s;
    String carol = "carol-" + s;
    directory.addUser(alice, "Alice Liddell", alice + "@example.com", "alice's directory password");
    directory.addUser(bob, "Bob Builder", bob + "@example.com", "bob's directory password");
    directory.addUser(carol, "Carol Directory", carol + "@example.com", "carol's directory pw");
    // posixGroups list members by username (memberUid); groupOfNames by DN (the next test).
    directory.addPosixGroup("ops-" + s, 5000, List.of(alice));
    directory.addPosixGroup("viewers-" + s, 5001, List.of(bob));
    createLocalUser(carol, "carol's local password");
    String source = "dir-" + s;
    Map<String, Object> spec =
        directory.sourceSpec(
            source,
            Map.of("OPS-" + s, List.of(ops), "viewers-" + s, List.of(viewer)),
            List.of(everyone));
    spec.put("attributes", Map.of("groupMember", "memberUid"));
    createSource(spec);

    JobRun run = sync();

    assertThat(run.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(run.getCounts())
        .containsEntry("users.created", 2L)
        .containsEntry("users.skipped", 1L)
        .containsEntry("sources.failed", 0L);
    assertThat(run.getMessage()).contains(carol + " (a local user has that name)");
    Map<String, Object> aliceUser = user(alice);
    assertThat(aliceUser)
        .containsEntry("source", "directory:" + source)
        .containsEntry("displayName", "Alice Liddell")
        .containsEntry("email", alice + "@example.com")
        .containsEntry("disabled", false);
    assertThat(aliceUser.get("roles")).isEqualTo(List.of(everyone, ops));
    assertThat(user(bob).get("roles")).isEqualTo(List.of(everyone, viewer));
    assertThat(user(carol)).as("the local user is not taken over").containsEntry("source", "local");

    assertThat(login(alice, "alice's directory password")).isNotBlank();
    assertProblem(tryLogin(alice, "not alice's password"), 401, "invalid-credentials");
    assertThat(login(carol, "carol's local password")).as("local users keep theirs").isNotBlank();
    assertProblem(tryLogin(carol, "carol's directory pw"), 401, "invalid-credentials");

    // The directory owns the password, name and e-mail.
    String aliceId = (String) aliceUser.get("id");
    assertProblem(patchUser(aliceId, Map.of("displayName", "Someone Else")), 409, "directory-user");
    assertProblem(
        patchUser(aliceId, Map.of("password", "a new local password")), 409, "directory-user");
    String aliceToken = login(alice, "alice's directory password");
    assertProblem(
        http.put()
            .uri("/api/v1/auth/password")
            .headers(h -> h.setBearerAuth(aliceToken))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(
                Map.of(
                    "currentPassword", "alice's directory password",
                    "newPassword", "a local password of alice"))
            .exchange()
            .expectBody()
            .returnResult(),
        409,
        "directory-user");
    // Roles given by hand last until the next sync.
    assertThat(patchUser(aliceId, Map.of("roles", List.of(viewer))).getStatus().value())
        .isEqualTo(200);
    assertThat(user(alice).get("roles")).isEqualTo(List.of(viewer));
    assertThat(sync().getCounts()).containsEntry("users.updated", 1L);
    assertThat(user(alice).get("roles")).isEqualTo(List.of(everyone, ops));

    // Wrong directory passwords count towards the same lock as local ones.
    for (int i = 0; i < 5; i++) {
      assertProblem(tryLogin(bob, "not bob's password"), 401, "invalid-credentials");
    }
    assertProblem(tryLogin(bob, "bob's directory password"), 429, "account-locked");

    assertThat(auditEvents("system", "user.create"))
        .anySatisfy(
            event -> {
              assertThat((String) event.get("target")).contains(alice);
              assertThat((String) event.get("reason")).contains("directory:" + source);
            });
  }

  @Test
  void aUserMovedBetweenGroupsGetsTheNewGroupsRoleAtTheNextRun() throws Exception {
    String s = suffix();
    String ops = role("ops-" + s);
    String dev = role("dev-" + s);
    String dan = "dan-" + s;
    String eve = "eve-" + s;
    directory.addUser(dan, "Dan Brown", dan + "@example.com", "dan's directory password");
    directory.addUser(eve, "Eve Online", eve + "@example.com", "eve's directory password");
    directory.addGroupOfNames("ops-" + s, List.of(dan));
    directory.addGroupOfNames("dev-" + s, List.of(eve));
    createSource(
        directory.sourceSpec(
            "moves-" + s, Map.of("ops-" + s, List.of(ops), "dev-" + s, List.of(dev)), List.of()));
    assertThat(sync().getCounts()).containsEntry("users.created", 2L);
    assertThat(user(dan).get("roles")).isEqualTo(List.of(ops));

    directory.setMembers("ops-" + s, List.of(eve));
    directory.setMembers("dev-" + s, List.of(dan));
    directory.setUserAttribute(dan, "mail", "dan.brown-" + s + "@example.com");
    JobRun run = sync();

    assertThat(run.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(run.getCounts()).containsEntry("users.updated", 2L);
    assertThat(user(dan).get("roles")).isEqualTo(List.of(dev));
    assertThat(user(dan)).containsEntry("email", "dan.brown-" + s + "@example.com");
    assertThat(user(eve).get("roles")).isEqualTo(List.of(ops));
    assertThat(auditEvents("system", "user.update"))
        .anySatisfy(
            event -> {
              assertThat((String) event.get("target")).contains(dan);
              assertThat((String) event.get("reason")).contains("roles [" + dev + "]", "email");
            });
    assertThat(sync().getCounts())
        .as("a run with nothing new changes nothing")
        .containsEntry("users.updated", 0L)
        .containsEntry("users.unchanged", 2L);
  }

  @Test
  @SuppressWarnings("unchecked")
  void aUserTheDirectoryNoLongerHasIsDisabledAndTheirSessionsAndKeysEnd() throws Exception {
    String s = suffix();
    String keys = role("keys-" + s, List.of("api_key"), List.of("create", "list"));
    String fay = "fay-" + s;
    String gus = "gus-" + s;
    String hal = "hal-" + s;
    directory.addUser(fay, "Fay Wray", fay + "@example.com", "fay's directory password");
    directory.addUser(gus, "Gus Grissom", gus + "@example.com", "gus's directory password");
    directory.addUser(hal, "Hal Jordan", hal + "@example.com", "hal's directory password");
    createSource(directory.sourceSpec("leavers-" + s, Map.of(), List.of(keys)));
    assertThat(sync().getCounts()).containsEntry("users.created", 3L);
    Map<String, Object> fayTokens = tokens(fay, "fay's directory password");
    String fayAccess = (String) fayTokens.get("accessToken");
    String gusKey = apiKey(login(gus, "gus's directory password"), keys);
    assertThat(status(get("/api/v1/auth/me", fayAccess))).isEqualTo(200);
    assertThat(status(get("/api/v1/auth/me", gusKey))).isEqualTo(200);
    // An administrator's disabling is never undone by a sync.
    patchUser((String) user(hal).get("id"), Map.of("disabled", true));

    directory.removeUser(fay);
    directory.moveUser(gus, true);
    JobRun run = sync();

    assertThat(run.getCounts()).containsEntry("users.disabled", 2L);
    assertThat(user(fay))
        .containsEntry("disabled", true)
        .containsEntry("source", "directory:leavers-" + s);
    assertThat(status(get("/api/v1/auth/me", fayAccess))).as("access token refused").isEqualTo(401);
    assertProblem(
        http.post()
            .uri("/api/v1/auth/refresh")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("refreshToken", fayTokens.get("refreshToken")))
            .exchange()
            .expectBody()
            .returnResult(),
        401,
        "unauthenticated");
    assertProblem(tryLogin(fay, "fay's directory password"), 401, "invalid-credentials");
    assertThat(auditEvents("system", "user.disable"))
        .anySatisfy(
            event -> {
              assertThat((String) event.get("target")).contains(fay);
              assertThat((String) event.get("reason"))
                  .contains("directory:leavers-" + s, "no longer returned");
            });

    // Back in the directory: enabled again, with a fresh login; the old API key stays revoked.
    directory.moveUser(gus, false);
    assertThat(sync().getCounts()).containsEntry("users.updated", 1L);
    assertThat(user(gus)).containsEntry("disabled", false);
    assertThat(user(hal)).as("disabled by an administrator").containsEntry("disabled", true);
    assertThat(login(gus, "gus's directory password")).isNotBlank();
    assertThat(status(get("/api/v1/auth/me", gusKey))).as("API key revoked").isEqualTo(401);
  }

  @Test
  void aWrongBindPasswordFailsTheRunWithAClearMessageAndTouchesNoUser() throws Exception {
    String s = suffix();
    String ivy = "ivy-" + s;
    String joe = "joe-" + s;
    directory.addUser(ivy, "Ivy League", ivy + "@example.com", "ivy's directory password");
    directory.addUser(joe, "Joe Bloggs", joe + "@example.com", "joe's directory password");
    Map<String, Object> good = directory.sourceSpec("good-" + s, Map.of(), List.of());
    good.put("userFilter", "(uid=" + joe + ")");
    createSource(good);
    Map<String, Object> bad = directory.sourceSpec("bad-" + s, Map.of(), List.of());
    bad.put("userFilter", "(uid=" + ivy + ")");
    createSource(bad);
    assertThat(sync().getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    String wrongPassword = "not the bind password " + s;
    bad.put("bindPassword", wrongPassword);
    replaceSource(bad);
    directory.setUserAttribute(joe, "cn", "Joe Bloggs Jr");

    JobRun failed = sync();

    assertThat(failed.getOutcome()).isEqualTo(JobOutcome.FAILED);
    assertThat(failed.getMessage())
        .contains("bad-" + s, "refused the bind DN " + directory.adminDn)
        .doesNotContain(wrongPassword);
    assertThat(failed.getCounts())
        .containsEntry("sources.failed", 1L)
        .containsEntry("users.updated", 1L);
    assertThat(user(joe))
        .as("the other source still synced")
        .containsEntry("displayName", "Joe Bloggs Jr");
    assertThat(user(ivy))
        .as("the failed source's users are untouched")
        .containsEntry("disabled", false);
    assertThat(status(get("/api/v1/health", null))).as("the platform keeps serving").isEqualTo(200);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> runs =
        (List<Map<String, Object>>)
            getJson("/api/v1/jobs/directory-sync/runs?limit=1", admin()).get("items");
    assertThat(runs.get(0))
        .containsEntry("id", failed.getId().toString())
        .containsEntry("outcome", "failed");
    assertThat((String) runs.get(0).get("message")).contains("bad-" + s);
    Map<String, Object> badSource = getJson("/api/v1/directory-sources/bad-" + s, admin());
    assertThat((String) badSource.get("lastSyncError"))
        .contains("refused the bind DN")
        .doesNotContain(wrongPassword);
    assertThat(
            db.sql("SELECT COUNT(*) FROM job_runs WHERE message LIKE :p")
                .bind("p", "%" + wrongPassword + "%")
                .map(row -> row.get(0, Long.class))
                .one()
                .block(Duration.ofSeconds(10)))
        .isZero();

    bad.put("bindPassword", directory.adminPassword);
    replaceSource(bad);
    assertThat(sync().getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(getJson("/api/v1/directory-sources/bad-" + s, admin()))
        .doesNotContainKey("lastSyncError")
        .containsKey("lastSyncAt");
  }

  @Test
  void ldapsAndStartTlsTrustTheSourcesCaAndAnUnreachableDirectoryIsUnavailable() throws Exception {
    String s = suffix();
    String kim = "kim-" + s;
    directory.addUser(kim, "Kim Possible", kim + "@example.com", "kim's directory password");
    Map<String, Object> ldaps = directory.sourceSpec("ldaps-" + s, Map.of(), List.of());
    ldaps.put("url", directory.ldapsUrl);
    ldaps.put("startTls", false);
    ldaps.put("userFilter", "(uid=" + kim + ")");
    createSource(ldaps);
    JobRun run = sync();
    assertThat(run.getOutcome()).as(run.getMessage()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(user(kim)).containsEntry("source", "directory:ldaps-" + s);
    assertThat(login(kim, "kim's directory password")).isNotBlank();

    // Without the CA, neither LDAPS nor StartTLS trusts the test server.
    Map<String, Object> untrusted = directory.sourceSpec("untrusted-" + s, Map.of(), List.of());
    untrusted.remove("caCertificate");
    untrusted.put("userFilter", "(uid=nobody)");
    createSource(untrusted);
    JobRun failed = sync();
    assertThat(failed.getOutcome()).isEqualTo(JobOutcome.FAILED);
    assertThat(failed.getMessage()).contains("untrusted-" + s, "not trusted");
    http.delete()
        .uri("/api/v1/directory-sources/untrusted-" + s)
        .headers(h -> h.setBearerAuth(admin()))
        .exchange()
        .expectStatus()
        .isNoContent();

    // Login needs the directory: unreachable or disabled, a clear 503, not a wrong password.
    ldaps.put("url", "ldaps://127.0.0.1:1");
    replaceSource(ldaps);
    EntityExchangeResult<byte[]> unreachable = tryLogin(kim, "kim's directory password");
    assertProblem(unreachable, 503, "unavailable");
    assertThat(body(unreachable)).contains("ldaps-" + s, "cannot check passwords");
    ldaps.put("url", directory.ldapsUrl);
    ldaps.put("enabled", false);
    replaceSource(ldaps);
    assertThat(body(assertProblem(tryLogin(kim, "kim's directory password"), 503, "unavailable")))
        .contains("disabled");
    ldaps.put("enabled", true);
    replaceSource(ldaps);
    assertThat(login(kim, "kim's directory password")).isNotBlank();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theBindPasswordIsStoredEncryptedAndNeverShown() throws Exception {
    String s = suffix();
    String secret = directory.adminPassword;
    Map<String, Object> spec = directory.sourceSpec("secret-" + s, Map.of(), List.of());
    spec.put("userFilter", "(uid=nobody)");
    EntityExchangeResult<byte[]> created =
        http.post()
            .uri("/api/v1/directory-sources")
            .headers(h -> h.setBearerAuth(admin()))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(spec)
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody()
            .returnResult();
    sourcesToRemove.add("secret-" + s);
    assertThat(body(created)).doesNotContain(secret).contains("\"bindPasswordSet\":true");
    spec.remove("bindPassword");
    spec.put("userBase", "ou=nowhere," + directory.base);
    replaceSource(spec);
    Map<String, Object> read = getJson("/api/v1/directory-sources/secret-" + s, admin());
    assertThat(read)
        .containsEntry("bindPasswordSet", true)
        .containsEntry("userBase", "ou=nowhere," + directory.base)
        .doesNotContainKey("bindPassword");
    assertThat(
            body(
                http.get()
                    .uri("/api/v1/directory-sources")
                    .headers(h -> h.setBearerAuth(admin()))
                    .exchange()
                    .expectBody()
                    .returnResult()))
        .contains("secret-" + s)
        .doesNotContain(secret);
    // A replacement without a password kept the stored one: the source still binds.
    spec.put("userBase", directory.people);
    replaceSource(spec);
    assertThat(sync().getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);

    String stored =
        db.sql("SELECT bind_password FROM directory_sources WHERE name = :name")
            .bind("name", "secret-" + s)
            .map(row -> row.get(0, String.class))
            .one()
            .block(Duration.ofSeconds(10));
    assertThat(stored).isNotBlank().doesNotContain(secret);
    Long leaks =
        db.sql(
                "SELECT COUNT(*) FROM audit_events WHERE reason LIKE :p OR target LIKE :p"
                    + " OR actor LIKE :p")
            .bind("p", "%" + secret + "%")
            .map(row -> row.get(0, Long.class))
            .one()
            .block(Duration.ofSeconds(10));
    assertThat(leaks).as("audit events holding the bind password").isZero();
    assertThat(auditEvents("admin", "directory_source.create"))
        .anySatisfy(event -> assertThat(event.get("target")).isEqualTo("secret-" + s));
    assertThat(auditEvents("admin", "directory_source.update"))
        .anySatisfy(event -> assertThat(event.get("target")).isEqualTo("secret-" + s));
  }

  @Test
  void invalidSourcesAreRefusedWithProblemJsonNamingTheField() throws Exception {
    String s = suffix();
    Map<String, Object> plaintext = directory.sourceSpec("plain-" + s, Map.of(), List.of());
    plaintext.put("startTls", false);
    assertFieldError(create(plaintext), "url");
    plaintext.put("allowPlaintext", true);
    plaintext.put("userFilter", "(uid=nobody)");
    assertThat(status(create(plaintext))).as("allowed in a lab").isEqualTo(201);
    sourcesToRemove.add("plain-" + s);

    Map<String, Object> unknownRole =
        directory.sourceSpec("roles-" + s, Map.of("g", List.of("no-such-role-" + s)), List.of());
    assertFieldError(create(unknownRole), "groupRoles");
    unknownRole.put("groupRoles", Map.of());
    unknownRole.put("defaultRoles", List.of("no-such-role-" + s));
    assertFieldError(create(unknownRole), "defaultRoles");

    Map<String, Object> badCa = directory.sourceSpec("ca-" + s, Map.of(), List.of());
    badCa.put(
        "caCertificate", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----");
    assertFieldError(create(badCa), "caCertificate");

    Map<String, Object> noPassword = directory.sourceSpec("nopw-" + s, Map.of(), List.of());
    noPassword.remove("bindPassword");
    assertFieldError(create(noPassword), "bindPassword");

    Map<String, Object> badBase = directory.sourceSpec("base-" + s, Map.of(), List.of());
    badBase.put("userBase", "not a dn");
    assertFieldError(create(badBase), "userBase");

    Map<String, Object> startTlsOnLdaps = directory.sourceSpec("tls-" + s, Map.of(), List.of());
    startTlsOnLdaps.put("url", directory.ldapsUrl);
    assertFieldError(create(startTlsOnLdaps), "startTls");

    assertProblem(create(plaintext), 409, "conflict");
    plaintext.put("name", "renamed-" + s);
    assertFieldError(
        http.put()
            .uri("/api/v1/directory-sources/plain-" + s)
            .headers(h -> h.setBearerAuth(admin()))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(plaintext)
            .exchange()
            .expectBody()
            .returnResult(),
        "name");
  }

  @Test
  void removingASourceDisablesItsUsersAndEndsTheirSessions() throws Exception {
    String s = suffix();
    String lea = "lea-" + s;
    directory.addUser(lea, "Lea Seydoux", lea + "@example.com", "lea's directory password");
    Map<String, Object> spec = directory.sourceSpec("removed-" + s, Map.of(), List.of());
    spec.put("userFilter", "(uid=" + lea + ")");
    createSource(spec);
    sync();
    Map<String, Object> tokens = tokens(lea, "lea's directory password");

    http.delete()
        .uri("/api/v1/directory-sources/removed-" + s)
        .headers(h -> h.setBearerAuth(admin()))
        .exchange()
        .expectStatus()
        .isNoContent();

    assertThat(user(lea))
        .as("kept, disabled, still showing where it came from")
        .containsEntry("disabled", true)
        .containsEntry("source", "directory:removed-" + s);
    assertThat(status(get("/api/v1/auth/me", (String) tokens.get("accessToken")))).isEqualTo(401);
    assertThat(
            status(
                http.post()
                    .uri("/api/v1/auth/refresh")
                    .contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(Map.of("refreshToken", tokens.get("refreshToken")))
                    .exchange()
                    .expectBody()
                    .returnResult()))
        .isEqualTo(401);
    assertProblem(tryLogin(lea, "lea's directory password"), 503, "unavailable");
    assertThat(status(get("/api/v1/directory-sources/removed-" + s, admin()))).isEqualTo(404);
    assertThat(auditEvents("admin", "directory_source.delete"))
        .anySatisfy(event -> assertThat((String) event.get("reason")).contains("1 of its 1 users"));

    // The same directory added again under the same name takes its users back.
    createSource(spec);
    JobRun again = sync();
    assertThat(again.getCounts())
        .containsEntry("users.created", 0L)
        .containsEntry("users.updated", 1L);
    assertThat(user(lea)).containsEntry("disabled", false);
    assertThat(login(lea, "lea's directory password")).isNotBlank();
  }

  // --- helpers -----------------------------------------------------------------------------

  private String admin() {
    try {
      return adminToken();
    } catch (Exception e) {
      throw new IllegalStateException("cannot log in as the administrator", e);
    }
  }

  private static String suffix() {
    return Long.toString(System.nanoTime() % 2_000_000_000L, 36);
  }

  private String role(String name) throws Exception {
    return role(name, List.of("image"), List.of("list"));
  }

  private String role(String name, List<String> resources, List<String> verbs) throws Exception {
    http.post()
        .uri("/api/v1/roles")
        .headers(h -> h.setBearerAuth(admin()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            Map.of(
                "name",
                name,
                "rules",
                List.of(Map.of("effect", "allow", "resources", resources, "verbs", verbs))))
        .exchange()
        .expectStatus()
        .isCreated();
    return name;
  }

  private void createLocalUser(String username, String password) throws Exception {
    http.post()
        .uri("/api/v1/users")
        .headers(h -> h.setBearerAuth(admin()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("username", username, "password", password))
        .exchange()
        .expectStatus()
        .isCreated();
  }

  private void createSource(Map<String, Object> spec) throws Exception {
    EntityExchangeResult<byte[]> result = create(spec);
    assertThat(status(result)).as(body(result)).isEqualTo(201);
    sourcesToRemove.add((String) spec.get("name"));
  }

  private EntityExchangeResult<byte[]> create(Map<String, Object> spec) throws Exception {
    return http.post()
        .uri("/api/v1/directory-sources")
        .headers(h -> h.setBearerAuth(admin()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(spec)
        .exchange()
        .expectBody()
        .returnResult();
  }

  private void replaceSource(Map<String, Object> spec) throws Exception {
    EntityExchangeResult<byte[]> result =
        http.put()
            .uri("/api/v1/directory-sources/{name}", spec.get("name"))
            .headers(h -> h.setBearerAuth(admin()))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(spec)
            .exchange()
            .expectBody()
            .returnResult();
    assertThat(status(result)).as(body(result)).isEqualTo(200);
  }

  /** Runs the job by hand and waits for the run to end. */
  private JobRun sync() throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    JobRun started = null;
    while (started == null) {
      var result =
          http.post()
              .uri("/api/v1/jobs/directory-sync/runs")
              .headers(h -> h.setBearerAuth(admin()))
              .exchange()
              .expectBody(JobRun.class)
              .returnResult();
      if (result.getStatus().value() == 202) {
        started = result.getResponseBody();
      } else {
        assertThat(result.getStatus().value())
            .as("only a run in progress delays one")
            .isEqualTo(409);
        assertThat(Instant.now()).isBefore(deadline);
        Thread.sleep(200);
      }
    }
    JobRun ours = started;
    while (true) {
      JobRun run =
          http
              .get()
              .uri("/api/v1/jobs/directory-sync/runs?limit=20")
              .headers(h -> h.setBearerAuth(admin()))
              .exchange()
              .expectStatus()
              .isOk()
              .expectBody(dev.airlock.platform.api.model.JobRunPage.class)
              .returnResult()
              .getResponseBody()
              .getItems()
              .stream()
              .filter(r -> r.getId().equals(ours.getId()))
              .findFirst()
              .orElseThrow();
      if (run.getOutcome() != JobOutcome.RUNNING) {
        return run;
      }
      assertThat(Instant.now()).as("the run ends within 60 s").isBefore(deadline);
      Thread.sleep(100);
    }
  }

  /** The user named {@code username}, as {@code GET /users} lists it. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> user(String username) throws Exception {
    String cursor = null;
    do {
      Map<String, Object> page =
          getJson("/api/v1/users?limit=500" + (cursor == null ? "" : "&cursor=" + cursor), admin());
      for (Map<String, Object> user : (List<Map<String, Object>>) page.get("items")) {
        if (username.equals(user.get("username"))) {
          return user;
        }
      }
      cursor = (String) page.get("nextCursor");
    } while (cursor != null);
    throw new AssertionError("no user " + username);
  }

  private EntityExchangeResult<byte[]> patchUser(String id, Map<String, Object> body)
      throws Exception {
    return http.patch()
        .uri("/api/v1/users/{id}", id)
        .headers(h -> h.setBearerAuth(admin()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectBody()
        .returnResult();
  }

  private EntityExchangeResult<byte[]> tryLogin(String username, String password) {
    return http.post()
        .uri("/api/v1/auth/login")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("username", username, "password", password))
        .exchange()
        .expectBody()
        .returnResult();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> tokens(String username, String password) {
    return http.post()
        .uri("/api/v1/auth/login")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("username", username, "password", password))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody();
  }

  @SuppressWarnings("unchecked")
  private String apiKey(String token, String role) {
    return (String)
        http.post()
            .uri("/api/v1/api-keys")
            .headers(h -> h.setBearerAuth(token))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("name", "k", "roles", List.of(role)))
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody()
            .get("secret");
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> auditEvents(String actor, String action) throws Exception {
    return (List<Map<String, Object>>)
        getJson("/api/v1/audit/events?limit=500&actor=" + actor + "&action=" + action, admin())
            .get("items");
  }

  private EntityExchangeResult<byte[]> get(String path, String token) {
    var request = http.get().uri(path);
    if (token != null) {
      request.headers(h -> h.setBearerAuth(token));
    }
    return request.exchange().expectBody().returnResult();
  }

  private static int status(EntityExchangeResult<byte[]> result) {
    return result.getStatus().value();
  }

  private static String body(EntityExchangeResult<byte[]> result) {
    return result.getResponseBody() == null ? "" : new String(result.getResponseBody());
  }

  private static EntityExchangeResult<byte[]> assertProblem(
      EntityExchangeResult<byte[]> result, int status, String type) {
    assertThat(status(result)).as(body(result)).isEqualTo(status);
    assertThat(result.getResponseHeaders().getContentType())
        .isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
    assertThat(body(result)).contains("\"type\":\"urn:airlock:problem:" + type + "\"");
    return result;
  }

  private static void assertFieldError(EntityExchangeResult<byte[]> result, String field) {
    assertProblem(result, 400, "validation");
    assertThat(body(result)).contains("\"field\":\"" + field + "\"");
  }
}
