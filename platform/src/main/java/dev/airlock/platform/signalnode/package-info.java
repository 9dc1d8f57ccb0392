/** Signal nodes: their registration, the calls they make, and the platform's calls to them. */
package dev.airlock.platform.signalnode;
