package dev.airlock.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reads the CPU time of the server under load, of the database server, of the driver itself and of
 * the whole machine, so a phase can say how much CPU one request costs on each side.
 */
final class CpuMeter {

  private final ProcessHandle server;
  private final ProcessHandle database;

  /**
   * @param server the process serving the requests, or null when unknown (a remote platform)
   * @param database the database server's process, or null when unknown
   */
  CpuMeter(ProcessHandle server, ProcessHandle database) {
    this.server = server;
    this.database = database;
  }

  /** The same meter for another server process. */
  CpuMeter forServer(ProcessHandle otherServer) {
    return new CpuMeter(otherServer, database);
  }

  Snapshot snapshot() {
    long[] machine = machineJiffies();
    return new Snapshot(
        System.nanoTime(),
        cpuNanos(server),
        cpuNanos(database),
        cpuNanos(ProcessHandle.current()),
        machine[0],
        machine[1]);
  }

  /** CPU time used between two snapshots; a negative figure means unknown. */
  static Usage between(Snapshot from, Snapshot to) {
    long jiffies = to.machineTotal - from.machineTotal;
    long idle = to.machineIdle - from.machineIdle;
    long server = delta(from.server, to.server);
    long database = delta(from.database, to.database);
    long driver = delta(from.driver, to.driver);
    double busy = jiffies <= 0 ? -1 : (double) (jiffies - idle) / jiffies;
    // What the machine was busy with beyond the processes measured: other work sharing the cores.
    double capacity =
        (double) (to.nanoTime - from.nanoTime) * Runtime.getRuntime().availableProcessors();
    double others =
        busy < 0 || capacity <= 0
            ? -1
            : Math.max(
                0,
                busy
                    - (Math.max(0, server) + Math.max(0, database) + Math.max(0, driver))
                        / capacity);
    return new Usage(server, database, driver, busy, others);
  }

  private static long delta(long from, long to) {
    return from < 0 || to < 0 ? -1 : to - from;
  }

  private static long cpuNanos(ProcessHandle process) {
    if (process == null) {
      return -1;
    }
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** The share of all cores' time that was busy over the next {@code period}, 0..1. */
  static double machineBusyOver(Duration period) throws InterruptedException {
    long[] from = machineJiffies();
    Thread.sleep(period.toMillis());
    long[] to = machineJiffies();
    long total = to[0] - from[0];
    return total <= 0 ? 0 : (double) (total - (to[1] - from[1])) / total;
  }

  // /proc/stat's first line: cpu user nice system idle iowait irq softirq steal ...
  private static long[] machineJiffies() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/stat"))) {
      String[] f = lines.findFirst().orElse("").trim().split("\\s+");
      long total = 0;
      for (int i = 1; i <= 8 && i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total, idle};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  /**
   * Finds the MariaDB/MySQL server listening on {@code port} of this machine by its process name
   * (read-only: /proc), for CPU accounting; empty when there is none or no single answer.
   */
  static Optional<ProcessHandle> localDatabaseServer(int port) {
    List<ProcessHandle> servers = new ArrayList<>();
    ProcessHandle.allProcesses()
        .forEach(
            p -> {
              try {
                String comm = Files.readString(Path.of("/proc", p.pid() + "", "comm")).trim();
                if (comm.equals("mariadbd") || comm.equals("mysqld")) {
                  servers.add(p);
                }
              } catch (IOException | RuntimeException e) {
                // gone, or not ours to read
              }
            });
    if (servers.size() <= 1) {
      return servers.stream().findFirst();
    }
    List<ProcessHandle> onPort =
        servers.stream()
            .filter(
                p ->
                    p.info()
                        .arguments()
                        .map(args -> String.join(" ", args).contains("port=" + port))
                        .orElse(false))
            .toList();
    if (onPort.size() == 1) {
      return Optional.of(onPort.get(0));
    }
    // The default port is the one a server without --port listens on.
    List<ProcessHandle> noPort =
        servers.stream()
            .filter(
                p ->
                    p.info()
                        .arguments()
                        .map(args -> !String.join(" ", args).contains("port="))
                        .orElse(false))
            .toList();
    return port == 3306 && noPort.size() == 1 ? Optional.of(noPort.get(0)) : Optional.empty();
  }

  record Snapshot(
      long nanoTime,
      long server,
      long database,
      long driver,
      long machineTotal,
      long machineIdle) {}

  /**
   * @param serverNanos CPU time of the server under load
   * @param databaseNanos CPU time of the database server
   * @param driverNanos CPU time of this driver
   * @param machineBusy share of all cores' time that was not idle, 0..1
   * @param othersBusy share of all cores' time used by other processes than these three, 0..1
   */
  record Usage(
      long serverNanos,
      long databaseNanos,
      long driverNanos,
      double machineBusy,
      double othersBusy) {}
}
