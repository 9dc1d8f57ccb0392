/**
 * The hand-written layer of the Airlock Java SDK: {@link dev.airlock.sdk.AirlockClient} (login,
 * token refresh, API keys), {@link dev.airlock.sdk.AirlockProblemException} (RFC 7807 errors) and
 * {@link dev.airlock.sdk.ContainerLauncher} (launch a container and wait until it is ready), on top
 * of the clients generated into {@code dev.airlock.sdk.api}, {@code dev.airlock.sdk.model} and
 * {@code dev.airlock.sdk.invoker}; remote sessions in {@code dev.airlock.sdk.connect}, byte streams
 * through edge nodes' tunnels in {@code dev.airlock.sdk.tunnel}.
 */
package dev.airlock.sdk;
