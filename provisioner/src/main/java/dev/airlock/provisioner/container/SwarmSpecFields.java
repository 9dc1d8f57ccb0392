package dev.airlock.provisioner.container;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.github.dockerjava.api.model.ContainerSpec;
import com.github.dockerjava.api.model.ContainerSpecPrivileges;
import com.github.dockerjava.api.model.ResourceSpecs;
import java.util.List;

/**
 * Fields of a Swarm service's spec that the engine has and docker-java 3.7's models lack: the
 * capabilities (API 1.41), the pids limit (API 1.41) and no-new-privileges (API 1.44). docker-java
 * serializes these subclasses with their extra fields.
 */
final class SwarmSpecFields {

  private SwarmSpecFields() {}

  /** A container spec with capabilities. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  static class HardenedContainerSpec extends ContainerSpec {

    private static final long serialVersionUID = 1L;

    @JsonProperty("CapabilityDrop")
    private List<String> capabilityDrop;

    @JsonProperty("CapabilityAdd")
    private List<String> capabilityAdd;

    HardenedContainerSpec withCapabilities(List<String> drop, List<String> add) {
      this.capabilityDrop = List.copyOf(drop);
      this.capabilityAdd = List.copyOf(add);
      return this;
    }

    List<String> capabilityDrop() {
      return capabilityDrop;
    }

    List<String> capabilityAdd() {
      return capabilityAdd;
    }
  }

  /** Limits with a pids limit. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  static class PidsLimitedResourceSpecs extends ResourceSpecs {

    private static final long serialVersionUID = 1L;

    @JsonProperty("Pids")
    private Long pids;

    PidsLimitedResourceSpecs withPids(long pids) {
      this.pids = pids;
      return this;
    }
  }

  /** Privileges with no-new-privileges, honoured from API 1.44. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  static class NoNewPrivileges extends ContainerSpecPrivileges {

    private static final long serialVersionUID = 1L;

    @JsonProperty("NoNewPrivileges")
    private final Boolean noNewPrivileges = Boolean.TRUE;
  }
}
