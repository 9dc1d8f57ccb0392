package dev.airlock.platform.web;

import jakarta.validation.MessageInterpolator;
import java.util.Locale;
import java.util.Set;
import org.hibernate.validator.messageinterpolation.ResourceBundleMessageInterpolator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.validation.beanvalidation.LocalValidatorFactoryBean;

/**
 * Bean validation with its messages loaded at start-up, in English. Hibernate Validator otherwise
 * reads its message bundles from the jar on the first violation in each locale, which would block
 * an event loop.
 */
@Configuration(proxyBeanMethods = false)
public class ValidationConfiguration {

  @Bean
  static LocalValidatorFactoryBean defaultValidator() {
    LocalValidatorFactoryBean validator = new LocalValidatorFactoryBean();
    validator.setMessageInterpolator(new PreloadedEnglish());
    return validator;
  }

  /** Interpolates every message in English from bundles preloaded at construction. */
  static final class PreloadedEnglish implements MessageInterpolator {

    private final MessageInterpolator delegate =
        new ResourceBundleMessageInterpolator(
            Set.of(Locale.ENGLISH), Locale.ENGLISH, context -> Locale.ENGLISH, true);

    @Override
    public String interpolate(String template, Context context) {
      return delegate.interpolate(template, context, Locale.ENGLISH);
    }

    @Override
    public String interpolate(String template, Context context, Locale locale) {
      return delegate.interpolate(template, context, Locale.ENGLISH);
    }
  }
}
