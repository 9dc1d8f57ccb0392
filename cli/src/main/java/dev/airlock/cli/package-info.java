/**
 * The {@code airlock} command-line client: log in, launch, wait for, list and delete containers,
 * list images, reach edge nodes' SSH servers, web apps and TCP ports through their tunnels; a
 * program for people at a terminal and for CI scripts (stable exit statuses, JSON output), built on
 * the Java SDK.
 */
package dev.airlock.cli;
