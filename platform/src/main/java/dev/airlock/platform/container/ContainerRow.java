package dev.airlock.platform.container;

import dev.airlock.platform.api.model.Container;
import dev.airlock.platform.api.model.ContainerState;
import dev.airlock.platform.database.Rows;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A container as stored; a warm one has no owner until it is handed out. */
public record ContainerRow(
    UUID id,
    long rowNo,
    UUID imageId,
    String imageName,
    UUID ownerId,
    String ownerName,
    boolean warm,
    boolean fromWarmPool,
    ContainerState state,
    String reason,
    Map<String, String> labels,
    UUID provisionerId,
    String provisionerName,
    UUID joinTokenId,
    UUID agentId,
    int ttlSeconds,
    Instant createdAt,
    Instant readyAt,
    Instant expiresAt,
    Instant endedAt) {

  /** Not deleted or failed. */
  public boolean live() {
    return state != ContainerState.DELETED && state != ContainerState.FAILED;
  }

  public Container toApi() {
    Container c =
        new Container(
            id,
            imageName,
            state,
            ownerName == null ? "" : ownerName,
            fromWarmPool,
            Rows.offset(Rows.column(createdAt)),
            Rows.offset(Rows.column(expiresAt)));
    c.setReason(reason);
    c.setLabels(labels);
    c.setAgentId(agentId);
    c.setProvisioner(provisionerName);
    c.setReadyAt(Rows.offset(Rows.column(readyAt)));
    c.setEndedAt(Rows.offset(Rows.column(endedAt)));
    return c;
  }
}
