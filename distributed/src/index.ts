/**
 * Distributed mode: every Aerie service in its own process on real engines (Mosquitto,
 * PostgreSQL, InfluxDB) behind an nginx gateway, supervised and restarted by a launcher.
 */
export {};
