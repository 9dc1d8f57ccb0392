package dev.airlock.platform.provision;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A registered provisioner, as stored. */
public record ProvisionerRow(
    UUID id,
    String name,
    String url,
    Map<String, String> labels,
    int maxContainers,
    String mode,
    Instant createdAt) {}
