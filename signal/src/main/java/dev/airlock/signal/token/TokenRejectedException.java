package dev.airlock.signal.token;

/**
 * A token was refused; the message says why (expired, wrong audience, bad signature…) and is safe
 * to show the caller: it never contains the token.
 */
public class TokenRejectedException extends RuntimeException {

  public TokenRejectedException(String reason) {
    super(reason, null, false, false);
  }
}
