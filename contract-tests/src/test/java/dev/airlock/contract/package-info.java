/**
 * The black-box contract suite: what a user of the Java and TypeScript SDKs would notice when
 * talking to a real platform (authentication, authorisation, errors, audit), every response checked
 * against the API contract on the way.
 */
package dev.airlock.contract;
