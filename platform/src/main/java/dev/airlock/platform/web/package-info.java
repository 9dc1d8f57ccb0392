/** Request-path plumbing shared by every feature: codecs, limits, the caller's address. */
package dev.airlock.platform.web;
