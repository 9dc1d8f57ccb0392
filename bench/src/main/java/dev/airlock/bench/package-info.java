/**
 * A bounded load driver that measures the platform's throughput and latency on loopback against a
 * bare reactor-netty endpoint (the ceiling); a benchmark, never a test.
 */
package dev.airlock.bench;
