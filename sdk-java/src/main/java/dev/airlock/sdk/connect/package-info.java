/** Opening remote sessions to agents: {@code AirlockClient.connect} and the session it returns. */
package dev.airlock.sdk.connect;
