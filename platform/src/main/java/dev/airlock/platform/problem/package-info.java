/** RFC 7807 problem documents: every error the API returns, with a stable type per kind. */
package dev.airlock.platform.problem;
