package dev.airlock.agent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The remote views of this agent, for the several-viewers rule of docs/remote-view.md: the first
 * granted view is the owner's; a view that arrives while there is one waits for the owner's
 * consent, granted by itself after the newcomer's {@code consentSeconds} (0: at once).
 */
final class RemoteViews {

  private static final Logger log = LoggerFactory.getLogger(RemoteViews.class);

  private final List<RemoteView> arrived = new ArrayList<>();
  private final Set<RemoteView> waiting = new HashSet<>();

  /** A view's control channel opened: it starts, or waits for the owner. */
  void arrived(RemoteView view) {
    RemoteView owner;
    synchronized (this) {
      owner =
          arrived.stream()
              .filter(other -> other.state() == RemoteView.State.GRANTED)
              .findFirst()
              .orElse(null);
      arrived.add(view);
      if (owner != null) {
        waiting.add(view);
      }
    }
    if (owner == null) {
      view.granted(false);
      return;
    }
    String requestId = UUID.randomUUID().toString();
    view.waitForConsent(owner);
    if (view.consentSeconds() == 0) {
      decide(view, true, "consentSeconds 0");
      return;
    }
    owner.askConsent(requestId, view);
    Mono.delay(Duration.ofSeconds(view.consentSeconds()))
        .subscribe(
            tick -> {
              owner.forgetConsentRequest(requestId);
              decide(view, true, "no answer within " + view.consentSeconds() + " s");
            });
  }

  /** Grants or refuses a waiting view (once: later decisions on it are ignored). */
  void decide(RemoteView newcomer, boolean granted, String by) {
    synchronized (this) {
      if (!waiting.remove(newcomer)) {
        return;
      }
    }
    log.info(
        "Session {} of {}: {} by {}",
        newcomer.id(),
        newcomer.username(),
        granted ? "granted" : "refused",
        by);
    if (granted) {
      newcomer.granted(true);
    } else {
      newcomer.denied();
    }
  }

  /** A view ended. */
  synchronized void left(RemoteView view) {
    arrived.remove(view);
    waiting.remove(view);
  }
}
