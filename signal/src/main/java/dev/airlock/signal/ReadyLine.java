package dev.airlock.signal;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Prints {@code Airlock signal node <id> listening on <public-url>} on stdout once the node serves,
 * so that scripts and tests starting it as a process know when to go on.
 */
@Component
public class ReadyLine implements ApplicationListener<ApplicationReadyEvent> {

  private final ThisNode node;

  public ReadyLine(ThisNode node) {
    this.node = node;
  }

  @Override
  public void onApplicationEvent(ApplicationReadyEvent event) {
    System.out.println("Airlock signal node " + node.id() + " listening on " + node.publicUrl());
    System.out.flush();
  }
}
