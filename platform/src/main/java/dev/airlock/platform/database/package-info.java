/** The platform's database: where it is, the embedded MariaDB, migrations and connections. */
package dev.airlock.platform.database;
