/** How the API reads JSON: strictly, refusing unknown properties and coerced scalars. */
package dev.airlock.provisioner.web;
