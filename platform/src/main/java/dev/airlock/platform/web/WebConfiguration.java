package dev.airlock.platform.web;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.web.reactive.config.WebFluxConfigurer;

/** Codec limits for every request body. */
@Configuration(proxyBeanMethods = false)
public class WebConfiguration implements WebFluxConfigurer {

  /** The largest request body the API reads; larger ones get 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  @Override
  public void configureHttpMessageCodecs(ServerCodecConfigurer configurer) {
    configurer.defaultCodecs().maxInMemorySize(MAX_BODY_BYTES);
  }
}
