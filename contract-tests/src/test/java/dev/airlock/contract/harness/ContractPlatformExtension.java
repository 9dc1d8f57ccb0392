package dev.airlock.contract.harness;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one {@link ContractPlatform} for the whole test run, on first use, and closes it when the
 * run ends (the root context's store closes it). A start-up failure is remembered, so every later
 * class fails at once with the same message instead of waiting for the platform again.
 *
 * <p>After each class, fails that class with the list of contract violations the proxy recorded
 * while it ran.
 */
public final class ContractPlatformExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ContractPlatformExtension.class);

  /** The shared platform, or why it could not start. */
  static final class Shared implements AutoCloseable {

    private final ContractPlatform platform;
    private final Exception failure;

    private Shared(ContractPlatform platform, Exception failure) {
      this.platform = platform;
      this.failure = failure;
    }

    static Shared start() {
      try {
        return new Shared(ContractPlatform.start(), null);
      } catch (Exception e) {
        return new Shared(null, e);
      }
    }

    ContractPlatform platform() {
      if (failure != null) {
        throw new IllegalStateException(
            "The platform under test is not available: " + failure.getMessage(), failure);
      }
      return platform;
    }

    @Override
    public void close() throws Exception {
      if (platform != null) {
        platform.close();
      }
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    shared(context).platform();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Shared shared = shared(context);
    if (shared.platform == null) {
      return;
    }
    List<ValidatingProxy.Violation> violations = shared.platform.proxy().drainViolations();
    if (!violations.isEmpty()) {
      throw new AssertionError(
          violations.size()
              + " response(s) broke openapi/airlock.yaml during "
              + context.getDisplayName()
              + ":\n"
              + violations.stream()
                  .map(ValidatingProxy.Violation::describe)
                  .collect(Collectors.joining("\n- ", "- ", "")));
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == ContractPlatform.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return shared(context).platform();
  }

  private static Shared shared(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .computeIfAbsent(Shared.class, key -> Shared.start(), Shared.class);
  }
}
