/** The Airlock platform: the REST API of {@code openapi/airlock.yaml} and what it stands on. */
package dev.airlock.platform;
