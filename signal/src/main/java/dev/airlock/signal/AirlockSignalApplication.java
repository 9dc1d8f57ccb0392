package dev.airlock.signal;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Starts an Airlock signal node. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class AirlockSignalApplication {

  public static void main(String[] args) {
    SpringApplication.run(AirlockSignalApplication.class, args);
  }
}
