/** Who is calling: password login, access and refresh tokens, API keys, signing keys. */
package dev.airlock.platform.auth;
