export { freePort } from './ports.js';
export { influxConf, type InfluxConfOptions } from './influxdb.js';
export { aclText, mosquittoConf, passwordFile, passwordLine, type BrokerUser, type MosquittoConfOptions } from './mosquitto.js';
