/**
 * Distributed mode: every Aerie service in its own process on real engines (Mosquitto,
 * PostgreSQL, InfluxDB) behind an nginx gateway, supervised and restarted by a launcher.
 */
export { startDistributed, HOME, type Distributed, type DistributedOptions, type ProcessInfo } from './launcher.js';
export { Supervisor, type UnitSpec, type SupervisorOptions } from './supervisor.js';
export { groupAndDescendants, stillRunning, rssBytes, type ProcId } from './proc.js';
export { httpsRequest, type HttpsAnswer } from './https-client.js';
