/** Offline verification of the platform's tokens (connect and admin) against its cached JWKS. */
package dev.airlock.signal.token;
