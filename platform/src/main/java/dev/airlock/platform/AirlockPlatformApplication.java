package dev.airlock.platform;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** Starts the Airlock platform: the REST API, identity, RBAC and the audit log. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class AirlockPlatformApplication {

  public static void main(String[] args) {
    SpringApplication.run(AirlockPlatformApplication.class, args);
  }
}
