package dev.airlock.contract.portal;

/**
 * The same as {@link PortalEndToEndContractTest} with the provisioner in Swarm mode: the browser
 * container is a one-replica Swarm service, whose {@code /tmp} (a tmpfs volume with {@code exec})
 * lets the agent load its native WebRTC library.
 */
class PortalEndToEndSwarmContractTest extends PortalEndToEndContractTest {

  @Override
  String provisionerMode() {
    return "swarm";
  }
}
