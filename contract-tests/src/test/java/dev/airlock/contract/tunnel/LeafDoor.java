package dev.airlock.contract.tunnel;

import java.net.InetSocketAddress;

/**
 * The test's own console into a leaf cluster: run inside the leaf's namespace, it relays {@code
 * HOST:0} (the namespace's address, a free port it prints) to the leaf platform on the namespace's
 * loopback, so that the test can administer the leaf and read its audit log. The root cluster is
 * never told of it: root users reach the leaf only through the trusted cluster's link.
 */
public final class LeafDoor {

  private LeafDoor() {}

  /** {@code HOST PLATFORM_PORT}; runs until killed. */
  public static void main(String[] args) throws Exception {
    CuttableProxy door =
        new CuttableProxy(args[0], new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])));
    System.out.println("door open on port " + door.port());
    System.out.flush();
    Thread.currentThread().join();
  }
}
