package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import reactor.core.Exceptions;

/** {@code airlock logout}: ends the stored login on the platform and forgets it. */
@Command(
    name = "logout",
    header = "End the stored login and forget its tokens.",
    description = {
      "Ends the login session on the platform (its tokens stop working everywhere) and deletes"
          + " the stored credentials. When the platform cannot be reached, the credentials are"
          + " deleted all the same and the session ends on its own when its refresh token expires.",
      "",
      "AIRLOCK_API_KEY is not affected: revoke an API key on the platform.",
    })
final class LogoutCommand implements Callable<Integer> {

  private final CliContext context;

  LogoutCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    CredentialStore store = CredentialStore.of(context);
    Optional<StoredLogin> stored;
    try {
      stored = store.load();
    } catch (CliException unreadable) {
      store.delete();
      context.out().println("Deleted the unreadable stored login " + store.file() + ".");
      return ExitStatus.OK;
    }
    if (stored.isEmpty()) {
      context.out().println("Not logged in.");
      return ExitStatus.OK;
    }
    StoredLogin login = stored.get();
    try {
      AirlockClient airlock = PlatformAccess.of(context).loginClient(login);
      airlock.logout().block(PlatformAccess.CALL_TIMEOUT);
    } catch (CliException expired) {
      // Already over: nothing to end on the platform.
    } catch (RuntimeException unreachable) {
      context
          .err()
          .println(
              "note: the platform did not end the session ("
                  + ErrorReporter.verdict(Exceptions.unwrap(unreachable)).line()
                  + "); it ends on its own when its refresh token expires");
    }
    store.delete();
    context.out().println("Logged out of " + login.url() + " (" + login.username() + ").");
    return ExitStatus.OK;
  }
}
