package dev.airlock.platform.directory;

import dev.airlock.platform.api.model.DirectoryAttributes;
import dev.airlock.platform.api.model.DirectorySource;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A directory source as stored. {@code sealedBindPassword} is the bind password encrypted by {@link
 * dev.airlock.platform.auth.SecretCipher} for the source's id; it never leaves the platform.
 *
 * @param users how many users the source has created, enabled or not
 */
public record DirectorySourceRow(
    UUID id,
    String name,
    String url,
    boolean startTls,
    boolean allowPlaintext,
    String caCertificate,
    String bindDn,
    String sealedBindPassword,
    String userBase,
    String userFilter,
    String groupBase,
    String groupFilter,
    Mapping attributes,
    Map<String, List<String>> groupRoles,
    List<String> defaultRoles,
    boolean enabled,
    Instant createdAt,
    Instant updatedAt,
    Instant lastSyncAt,
    String lastSyncError,
    int users) {

  /** What {@code users.source} says of this source's users. */
  public String userSource() {
    return userSource(name);
  }

  /** What {@code users.source} says of the users of source {@code name}. */
  public static String userSource(String name) {
    return "directory:" + name;
  }

  /** Whether the connection is TLS from the start. */
  public boolean ldaps() {
    return url.regionMatches(true, 0, "ldaps:", 0, 6);
  }

  /** The source as the API shows it: never the bind password, only whether one is stored. */
  public DirectorySource toApi() {
    Map<String, List<String>> roles = new LinkedHashMap<>();
    groupRoles.forEach((group, names) -> roles.put(group, new ArrayList<>(names)));
    DirectorySource source =
        new DirectorySource(
            id,
            name,
            url,
            startTls,
            allowPlaintext,
            bindDn,
            sealedBindPassword != null && !sealedBindPassword.isEmpty(),
            userBase,
            userFilter,
            groupFilter,
            attributes.toApi(),
            roles,
            new ArrayList<>(defaultRoles),
            enabled,
            createdAt.atOffset(ZoneOffset.UTC),
            updatedAt.atOffset(ZoneOffset.UTC));
    source.setCaCertificate(caCertificate);
    source.setGroupBase(groupBase);
    source.setUsers(users);
    if (lastSyncAt != null) {
      source.setLastSyncAt(lastSyncAt.atOffset(ZoneOffset.UTC));
    }
    source.setLastSyncError(lastSyncError);
    return source;
  }

  /**
   * Which LDAP attributes hold what.
   *
   * @param username the login name
   * @param groupName the group attribute {@code groupRoles} keys on
   * @param groupMember the group attribute listing members, by DN or by username
   */
  public record Mapping(
      String username, String displayName, String email, String groupName, String groupMember) {

    /** The API's attributes, with its defaults for what it leaves out. */
    public static Mapping of(DirectoryAttributes attributes) {
      DirectoryAttributes a = attributes == null ? new DirectoryAttributes() : attributes;
      return new Mapping(
          a.getUsername(), a.getDisplayName(), a.getEmail(), a.getGroupName(), a.getGroupMember());
    }

    DirectoryAttributes toApi() {
      return new DirectoryAttributes()
          .username(username)
          .displayName(displayName)
          .email(email)
          .groupName(groupName)
          .groupMember(groupMember);
    }
  }
}
