package dev.airlock.provisioner;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Starts an Airlock provisioner. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class AirlockProvisionerApplication {

  public static void main(String[] args) {
    SpringApplication.run(AirlockProvisionerApplication.class, args);
  }
}
