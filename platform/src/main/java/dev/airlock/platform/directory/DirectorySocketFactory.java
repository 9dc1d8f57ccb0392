package dev.airlock.platform.directory;

import java.util.function.Supplier;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * The socket factory JNDI uses for {@code ldaps://} connections ({@code
 * java.naming.ldap.factory.socket} names a class, not an instance): {@link #getDefault()} answers
 * the factory of the source being connected to on this thread, which trusts that source's CA.
 */
public final class DirectorySocketFactory {

  private static final ThreadLocal<SSLSocketFactory> CURRENT = new ThreadLocal<>();

  private DirectorySocketFactory() {}

  /** Called by JNDI, on the thread that opens the connection. */
  public static SocketFactory getDefault() {
    SSLSocketFactory factory = CURRENT.get();
    return factory != null ? factory : SSLSocketFactory.getDefault();
  }

  /** Runs {@code work} (which opens connections on this thread) with {@code factory}. */
  static <T> T using(SSLSocketFactory factory, Supplier<T> work) {
    CURRENT.set(factory);
    try {
      return work.get();
    } finally {
      CURRENT.remove();
    }
  }
}
