/**
 * The {@code airlock} command-line client: log in, launch, wait for, list and delete containers,
 * list images; a program for people at a terminal and for CI scripts (stable exit statuses, JSON
 * output), built on the Java SDK.
 */
package dev.airlock.cli;
