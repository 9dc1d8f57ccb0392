/** A trusted (leaf) cluster's link to its root: the leaf's side of every routed stream. */
package dev.airlock.agent.cluster;
