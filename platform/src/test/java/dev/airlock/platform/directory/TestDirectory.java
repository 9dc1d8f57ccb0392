package dev.airlock.platform.directory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.naming.directory.Attributes;
import javax.naming.directory.BasicAttribute;
import javax.naming.directory.BasicAttributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.ModificationItem;
import org.springframework.ldap.core.LdapTemplate;
import org.springframework.ldap.core.support.LdapContextSource;

/**
 * The real slapd that {@code deploy/test-deps.sh} starts ({@code AIRLOCK_TEST_LDAP_*}), and the
 * entries a test class loads into it through the administrator's bind, under an {@code ou} of its
 * own so that classes never see each other's users and groups.
 */
final class TestDirectory {

  final String url;
  final String ldapsUrl;
  final String adminDn;
  final String adminPassword;
  final String caPem;
  final String base;
  final String people;
  final String groups;
  private final LdapTemplate ldap;

  private TestDirectory(String name) {
    url = required("AIRLOCK_TEST_LDAP_URL");
    ldapsUrl = required("AIRLOCK_TEST_LDAPS_URL");
    adminDn = required("AIRLOCK_TEST_LDAP_ADMIN_DN");
    adminPassword = required("AIRLOCK_TEST_LDAP_ADMIN_PASSWORD");
    try {
      caPem = Files.readString(Path.of(required("AIRLOCK_TEST_LDAP_CA")));
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read AIRLOCK_TEST_LDAP_CA", e);
    }
    LdapContextSource contexts = new LdapContextSource();
    contexts.setUrl(url);
    contexts.setUserDn(adminDn);
    contexts.setPassword(adminPassword);
    contexts.afterPropertiesSet();
    ldap = new LdapTemplate(contexts);
    base = "ou=" + name + "," + required("AIRLOCK_TEST_LDAP_BASE");
    people = "ou=people," + base;
    groups = "ou=groups," + base;
    ou(base);
    ou(people);
    ou(groups);
  }

  private TestDirectory(TestDirectory parent, String name) {
    url = parent.url;
    ldapsUrl = parent.ldapsUrl;
    adminDn = parent.adminDn;
    adminPassword = parent.adminPassword;
    caPem = parent.caPem;
    ldap = parent.ldap;
    base = "ou=" + name + "," + parent.base;
    people = "ou=people," + base;
    groups = "ou=groups," + base;
    ou(base);
    ou(people);
    ou(groups);
  }

  /** A fresh subtree named after {@code testClass} (and the time, so reruns do not collide). */
  static TestDirectory forClass(Class<?> testClass) {
    return new TestDirectory(
        testClass.getSimpleName().toLowerCase() + "-" + Long.toString(System.nanoTime(), 36));
  }

  /** A subtree of this one with people and groups of its own, for one test. */
  TestDirectory child(String name) {
    return new TestDirectory(this, name);
  }

  private static String required(String variable) {
    String value = System.getenv(variable);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          variable
              + " is not set: these tests need the real OpenLDAP slapd that deploy/test-deps.sh"
              + " starts (./airlock test does; by hand: eval \"$(deploy/test-deps.sh up)\")");
    }
    return value;
  }

  /** The DN of user {@code uid}. */
  String userDn(String uid) {
    return "uid=" + uid + "," + people;
  }

  /** The DN of group {@code cn}. */
  String groupDn(String cn) {
    return "cn=" + cn + "," + groups;
  }

  /** Adds an inetOrgPerson with a password. */
  void addUser(String uid, String name, String mail, String password) {
    Attributes attributes = objectClasses("inetOrgPerson", "organizationalPerson", "person", "top");
    attributes.put("uid", uid);
    attributes.put("cn", name);
    attributes.put("sn", name.substring(name.lastIndexOf(' ') + 1));
    attributes.put("mail", mail);
    attributes.put("userPassword", password);
    ldap.bind(userDn(uid), null, attributes);
  }

  /** Sets an attribute of user {@code uid}. */
  void setUserAttribute(String uid, String attribute, String value) {
    ldap.modifyAttributes(
        userDn(uid),
        new ModificationItem[] {
          new ModificationItem(DirContext.REPLACE_ATTRIBUTE, new BasicAttribute(attribute, value))
        });
  }

  void removeUser(String uid) {
    ldap.unbind(userDn(uid));
  }

  /** Moves user {@code uid} out of the people subtree (its entryUUID stays), or back. */
  void moveUser(String uid, boolean out) {
    String outside = "uid=" + uid + "," + base;
    if (out) {
      ldap.rename(userDn(uid), outside);
    } else {
      ldap.rename(outside, userDn(uid));
    }
  }

  /** Adds a groupOfNames whose members are the DNs of {@code uids}. */
  void addGroupOfNames(String cn, List<String> uids) {
    Attributes attributes = objectClasses("groupOfNames", "top");
    attributes.put("cn", cn);
    BasicAttribute members = new BasicAttribute("member");
    // groupOfNames must have a member: the group's own DN stands in for "nobody".
    uids.forEach(uid -> members.add(userDn(uid)));
    if (uids.isEmpty()) {
      members.add(groupDn(cn));
    }
    attributes.put(members);
    ldap.bind(groupDn(cn), null, attributes);
  }

  /** Adds a posixGroup whose members are the usernames {@code uids} (memberUid). */
  void addPosixGroup(String cn, int gid, List<String> uids) {
    Attributes attributes = objectClasses("posixGroup", "top");
    attributes.put("cn", cn);
    attributes.put("gidNumber", Integer.toString(gid));
    if (!uids.isEmpty()) {
      BasicAttribute members = new BasicAttribute("memberUid");
      uids.forEach(members::add);
      attributes.put(members);
    }
    ldap.bind(groupDn(cn), null, attributes);
  }

  /** Replaces the members of groupOfNames {@code cn}. */
  void setMembers(String cn, List<String> uids) {
    BasicAttribute members = new BasicAttribute("member");
    uids.forEach(uid -> members.add(userDn(uid)));
    if (uids.isEmpty()) {
      members.add(groupDn(cn));
    }
    ldap.modifyAttributes(
        groupDn(cn),
        new ModificationItem[] {new ModificationItem(DirContext.REPLACE_ATTRIBUTE, members)});
  }

  /**
   * A source body (for {@code POST /api/v1/directory-sources}) over this subtree, bound as the
   * administrator, through StartTLS with the test CA; callers adjust it.
   */
  Map<String, Object> sourceSpec(
      String name, Map<String, List<String>> groupRoles, List<String> defaultRoles) {
    return new java.util.LinkedHashMap<>(
        Map.of(
            "name", name,
            "url", url,
            "startTls", true,
            "caCertificate", caPem,
            "bindDn", adminDn,
            "bindPassword", adminPassword,
            "userBase", people,
            "groupBase", groups,
            "groupRoles", groupRoles,
            "defaultRoles", defaultRoles));
  }

  private void ou(String dn) {
    Attributes attributes = objectClasses("organizationalUnit", "top");
    attributes.put("ou", dn.substring(3, dn.indexOf(',')));
    ldap.bind(dn, null, attributes);
  }

  private static Attributes objectClasses(String... classes) {
    Attributes attributes = new BasicAttributes(true);
    BasicAttribute objectClass = new BasicAttribute("objectClass");
    for (String c : classes) {
      objectClass.add(c);
    }
    attributes.put(objectClass);
    return attributes;
  }
}
