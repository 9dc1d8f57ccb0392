/**
 * Test support shared by the modules' tests: the platform's boot jar run as a process ({@link
 * dev.airlock.testkit.PlatformProcess}) on a fresh database ({@link
 * dev.airlock.testkit.TestDatabase}), other programs run as processes ({@link
 * dev.airlock.testkit.ManagedProcess}), and BlockHound, which the testkit installs in every test
 * JVM it is on the class path of ({@link dev.airlock.testkit.AirlockBlockHoundIntegration}, {@link
 * dev.airlock.testkit.BlockHoundCheck}).
 */
package dev.airlock.testkit;
