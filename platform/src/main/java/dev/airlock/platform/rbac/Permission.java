package dev.airlock.platform.rbac;

/**
 * The permission an operation declares in the spec's {@code x-airlock-permission}.
 *
 * @param scope who may call at all
 * @param kind the resource kind, for {@link Scope#RESOURCE}
 * @param verb the verb, for {@link Scope#RESOURCE}
 * @param self whether the owner of the addressed object passes without a rule
 */
public record Permission(Scope scope, String kind, String verb, boolean self) {

  /** Who may call an operation. */
  public enum Scope {
    /** Anyone, without credentials. */
    PUBLIC,
    /** Anyone with valid credentials. */
    AUTHENTICATED,
    /** Callers whose rules allow {@code verb} on {@code kind}. */
    RESOURCE
  }

  @Override
  public String toString() {
    return switch (scope) {
      case PUBLIC -> "public";
      case AUTHENTICATED -> "authenticated";
      case RESOURCE -> kind + ":" + verb + (self ? " (or owner)" : "");
    };
  }
}
