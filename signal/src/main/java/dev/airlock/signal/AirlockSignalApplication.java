package dev.airlock.signal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import reactor.core.publisher.Hooks;
import reactor.netty.channel.AbortedException;

/** Starts an Airlock signal node. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class AirlockSignalApplication {

  private static final Logger DROPPED = LoggerFactory.getLogger("dev.airlock.signal.dropped");

  public static void main(String[] args) {
    // A stream whose reader has already gone (a tunnel closed from the other side) may still see
    // its connection abort: nobody is left to tell, and that is how streams end, not an error.
    Hooks.onErrorDropped(
        error -> {
          if (error instanceof AbortedException) {
            DROPPED.debug("After its end, a stream saw: {}", error.toString());
          } else {
            DROPPED.warn("An error after its stream had ended: {}", error.toString());
          }
        });
    SpringApplication.run(AirlockSignalApplication.class, args);
  }
}
