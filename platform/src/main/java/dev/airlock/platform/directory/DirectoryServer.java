package dev.airlock.platform.directory;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.naming.InvalidNameException;
import javax.naming.NamingEnumeration;
import javax.naming.directory.Attribute;
import javax.naming.directory.SearchControls;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLSocketFactory;
import org.springframework.ldap.AuthenticationException;
import org.springframework.ldap.CommunicationException;
import org.springframework.ldap.NameNotFoundException;
import org.springframework.ldap.control.PagedResultsDirContextProcessor;
import org.springframework.ldap.core.DirContextOperations;
import org.springframework.ldap.core.LdapOperations;
import org.springframework.ldap.core.support.AbstractContextMapper;
import org.springframework.ldap.core.support.DefaultTlsDirContextAuthenticationStrategy;
import org.springframework.ldap.core.support.LdapContextSource;
import org.springframework.ldap.core.support.SingleContextSource;
import org.springframework.ldap.filter.AndFilter;
import org.springframework.ldap.filter.EqualsFilter;
import org.springframework.ldap.filter.HardcodedFilter;
import org.springframework.ldap.support.LdapUtils;

/**
 * The LDAP server of one directory source, through spring-ldap ({@link LdapContextSource}): binds
 * as the source's bind DN, reads its users and groups (paged), and checks a user's password by
 * binding as them. Every method blocks (JNDI): call them on {@code Schedulers.boundedElastic()}.
 * Connections upgrade with StartTLS or start with TLS as the source says, trust the source's CA
 * certificate when it has one (else the JVM's trust store), check the server's host name, and time
 * out ({@link #CONNECT_TIMEOUT}, {@link #READ_TIMEOUT}). Failures are {@link DirectoryException}s
 * whose messages carry no password.
 */
final class DirectoryServer {

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
  static final int PAGE_SIZE = 500;
  private static final String ENTRY_UUID = "entryUUID";

  private final DirectorySourceRow source;
  private final DirectorySourceRow.Mapping map;
  private final LdapContextSource contexts;
  private final SSLSocketFactory tls;

  DirectoryServer(DirectorySourceRow source, String bindPassword) {
    this.source = source;
    this.map = source.attributes();
    this.tls =
        source.caCertificate() == null || source.caCertificate().isBlank()
            ? null
            : DirectoryTls.trusting(source.caCertificate());
    LdapContextSource contexts = new LdapContextSource();
    contexts.setUrl(source.url().replaceAll("/+$", ""));
    contexts.setUserDn(source.bindDn());
    contexts.setPassword(bindPassword);
    contexts.setPooled(false);
    contexts.setReferral("ignore");
    Map<String, Object> environment = new HashMap<>();
    environment.put("com.sun.jndi.ldap.connect.timeout", Long.toString(CONNECT_TIMEOUT.toMillis()));
    environment.put("com.sun.jndi.ldap.read.timeout", Long.toString(READ_TIMEOUT.toMillis()));
    if (source.ldaps() && tls != null) {
      environment.put("java.naming.ldap.factory.socket", DirectorySocketFactory.class.getName());
    }
    contexts.setBaseEnvironmentProperties(environment);
    if (source.startTls()) {
      DefaultTlsDirContextAuthenticationStrategy startTls =
          new DefaultTlsDirContextAuthenticationStrategy();
      if (tls != null) {
        startTls.setSslSocketFactory(tls);
      }
      contexts.setAuthenticationStrategy(startTls);
    }
    contexts.afterPropertiesSet();
    this.contexts = contexts;
  }

  /** Every user under the user base that the user filter selects, and every group. */
  Snapshot read() {
    return call(
        "read users and groups",
        () ->
            SingleContextSource.doWithSingleContext(
                contexts,
                ldap -> {
                  List<Entry> users =
                      search(
                          ldap,
                          source.userBase(),
                          source.userFilter(),
                          userAttributes(),
                          this::entry);
                  List<Group> groups = List.of();
                  if (source.groupBase() != null && !source.groupBase().isBlank()) {
                    groups =
                        search(
                            ldap,
                            source.groupBase(),
                            source.groupFilter(),
                            new String[] {map.groupName(), map.groupMember()},
                            this::group);
                  }
                  return new Snapshot(users, groups);
                }));
  }

  /** The entry of {@code username} under the user base, if exactly one matches. */
  Optional<Entry> findUser(String username) {
    AndFilter filter =
        new AndFilter()
            .and(new HardcodedFilter(source.userFilter()))
            .and(new EqualsFilter(map.username(), username));
    List<Entry> found =
        call(
            "look up " + username,
            () ->
                SingleContextSource.doWithSingleContext(
                    contexts,
                    ldap ->
                        search(
                            ldap,
                            source.userBase(),
                            filter.encode(),
                            userAttributes(),
                            this::entry)));
    return found.size() == 1 ? Optional.of(found.get(0)) : Optional.empty();
  }

  /**
   * Whether {@code password} is the password of {@code dn}: a bind as them. An empty password is
   * never tried (LDAP would take it as an anonymous bind).
   */
  boolean authenticate(String dn, String password) {
    if (password == null || password.isEmpty()) {
      return false;
    }
    return call(
        "check a password",
        () -> {
          try {
            contexts.getContext(dn, password).close();
            return true;
          } catch (AuthenticationException e) {
            return false;
          } catch (javax.naming.NamingException e) {
            return true; // the bind succeeded; only closing the connection failed
          }
        });
  }

  private <T> List<T> search(
      LdapOperations ldap,
      String base,
      String filter,
      String[] attributes,
      java.util.function.Function<DirContextOperations, T> mapper) {
    SearchControls controls = new SearchControls();
    controls.setSearchScope(SearchControls.SUBTREE_SCOPE);
    controls.setReturningAttributes(attributes);
    controls.setTimeLimit((int) READ_TIMEOUT.toMillis());
    PagedResultsDirContextProcessor pages = new PagedResultsDirContextProcessor(PAGE_SIZE);
    List<T> all = new ArrayList<>();
    AbstractContextMapper<T> contextMapper =
        new AbstractContextMapper<>() {
          @Override
          protected T doMapFromContext(DirContextOperations context) {
            return mapper.apply(context);
          }
        };
    do {
      all.addAll(ldap.search(base, filter, controls, contextMapper, pages));
    } while (pages.hasMore());
    all.removeIf(java.util.Objects::isNull);
    return all;
  }

  private String[] userAttributes() {
    return new String[] {map.username(), map.displayName(), map.email(), ENTRY_UUID};
  }

  private Entry entry(DirContextOperations context) {
    String dn = context.getNameInNamespace();
    String uuid = context.getStringAttribute(ENTRY_UUID);
    String username = context.getStringAttribute(map.username());
    return new Entry(
        dn,
        uuid != null && !uuid.isBlank() ? uuid.toLowerCase(Locale.ROOT) : normalise(dn),
        username == null ? null : username.trim().toLowerCase(Locale.ROOT),
        context.getStringAttribute(map.displayName()),
        context.getStringAttribute(map.email()));
  }

  private Group group(DirContextOperations context) {
    Set<String> members = new LinkedHashSet<>();
    Attribute attribute = context.getAttributes().get(map.groupMember());
    if (attribute != null) {
      try {
        NamingEnumeration<?> values = attribute.getAll();
        while (values.hasMore()) {
          Object value = values.next();
          if (value instanceof String member && !member.isBlank()) {
            members.add(member(member));
          }
        }
      } catch (javax.naming.NamingException e) {
        throw LdapUtils.convertLdapException(e);
      }
    }
    return new Group(
        context.getNameInNamespace(), context.getStringAttribute(map.groupName()), members);
  }

  /** A member value: a normalised DN, or a username (memberUid), lower-cased. */
  static String member(String value) {
    String trimmed = value.trim();
    if (trimmed.contains("=")) {
      String dn = normalise(trimmed);
      if (dn != null) {
        return dn;
      }
    }
    return trimmed.toLowerCase(Locale.ROOT);
  }

  /** A DN in one spelling (types and values lower-cased, values escaped), or null if none. */
  static String normalise(String dn) {
    try {
      List<Rdn> rdns = new LdapName(dn).getRdns();
      StringBuilder out = new StringBuilder();
      for (int i = rdns.size() - 1; i >= 0; i--) {
        Rdn rdn = rdns.get(i);
        if (!out.isEmpty()) {
          out.append(',');
        }
        out.append(rdn.getType().toLowerCase(Locale.ROOT))
            .append('=')
            .append(Rdn.escapeValue(rdn.getValue()).toLowerCase(Locale.ROOT));
      }
      return out.toString();
    } catch (InvalidNameException | IllegalArgumentException e) {
      return null;
    }
  }

  /** Runs {@code work} with this source's TLS trust, turning LDAP failures into clear messages. */
  private <T> T call(String what, Supplier<T> work) {
    try {
      return tls == null ? work.get() : DirectorySocketFactory.using(tls, work);
    } catch (AuthenticationException e) {
      throw new DirectoryException(
          "the server refused the bind DN "
              + source.bindDn()
              + " or its password ("
              + why(e)
              + ")");
    } catch (CommunicationException e) {
      throw new DirectoryException("cannot reach " + where() + ": " + why(e));
    } catch (NameNotFoundException e) {
      throw new DirectoryException(
          "cannot " + what + ": a base DN does not exist on the server (" + why(e) + ")");
    } catch (org.springframework.ldap.NamingException e) {
      throw new DirectoryException("cannot " + what + " at " + where() + ": " + why(e));
    }
  }

  private String where() {
    URI uri = URI.create(source.url());
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
  }

  /** The innermost cause's message: what the server or the TLS layer said. */
  private static String why(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    String message = cause.getMessage();
    if (cause instanceof java.security.cert.CertPathValidatorException
        || cause instanceof java.security.cert.CertPathBuilderException) {
      return "the server's certificate is not trusted (set caCertificate to the CA that signed it)";
    }
    if (cause instanceof java.security.cert.CertificateException
        && message != null
        && message.contains("No subject alternative")) {
      return "the server's certificate does not name this host (" + message + ")";
    }
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }

  /** What a read found. */
  record Snapshot(List<Entry> users, List<Group> groups) {}

  /**
   * A user entry.
   *
   * @param key its entryUUID, or its normalised DN where the directory has none
   * @param username lower-cased, or null when the entry lacks the attribute
   */
  record Entry(String dn, String key, String username, String displayName, String email) {}

  /**
   * A group entry.
   *
   * @param members normalised DNs and lower-cased usernames
   */
  record Group(String dn, String name, Set<String> members) {}
}
