package dev.airlock.platform.web;

import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.ResourceKind;
import dev.airlock.platform.api.model.SessionState;
import dev.airlock.platform.api.model.Verb;
import org.springframework.context.annotation.Configuration;
import org.springframework.format.FormatterRegistry;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.web.reactive.config.WebFluxConfigurer;

/** Codec limits for every request body, and how query parameters map to the spec's enums. */
@Configuration(proxyBeanMethods = false)
public class WebConfiguration implements WebFluxConfigurer {

  /** The largest request body the API reads; larger ones get 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  @Override
  public void configureHttpMessageCodecs(ServerCodecConfigurer configurer) {
    configurer.defaultCodecs().maxInMemorySize(MAX_BODY_BYTES);
  }

  @Override
  public void addFormatters(FormatterRegistry registry) {
    // Query parameters carry the spec's values ("denied"), not Java's constant names (DENIED).
    registry.addConverter(String.class, AuditOutcome.class, AuditOutcome::fromValue);
    registry.addConverter(String.class, ResourceKind.class, ResourceKind::fromValue);
    registry.addConverter(String.class, Verb.class, Verb::fromValue);
    registry.addConverter(String.class, AgentKind.class, AgentKind::fromValue);
    registry.addConverter(String.class, SessionState.class, SessionState::fromValue);
  }
}
