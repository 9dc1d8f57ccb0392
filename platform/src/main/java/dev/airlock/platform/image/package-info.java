/** Container images (templates): what a requester may launch, with its isolation and limits. */
package dev.airlock.platform.image;
