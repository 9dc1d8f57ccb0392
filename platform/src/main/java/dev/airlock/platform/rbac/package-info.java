/** Role-based access control: the permission each operation declares, and rules that grant it. */
package dev.airlock.platform.rbac;
