/**
 * Cloud mode (fleet read from IoT Hub's built-in endpoint through Event Hubs): the hub sees the
 * telemetry of devices registered in Azure IoT Hub but has no way to command them. Sending them
 * anything would need IoT Hub's service-side API (C2D over AMQP `/messages/devicebound`, direct
 * methods over HTTPS), which is not implemented, so commands for them are refused with
 * HUB_ERR_NO_COMMAND_ROUTE and counted rather than published on a broker no such device listens
 * to. A device is out of reach when its telemetry came through Event Hubs, or, with the embedded
 * broker, when the hub's own registry does not hold it as an MQTT drone.
 */
export class CloudCommandRoutes {
  private readonly cloudDevices = new Set<string>();

  constructor(
    private readonly embeddedBroker: boolean,
    /** Whether the hub's registry holds this id as a drone speaking MQTT to the hub (not an IoT Hub device). */
    private readonly isMqttDrone: (droneId: string) => boolean,
  ) {}

  /** A message from this device arrived through Event Hubs: it lives in Azure IoT Hub. */
  sawInCloud(droneId: string): void {
    this.cloudDevices.add(droneId);
  }

  reachable(droneId: string): boolean {
    if (this.isMqttDrone(droneId)) return true;
    return !this.embeddedBroker && !this.cloudDevices.has(droneId);
  }
}

/** Logged once when a cloud-mode hub starts. */
export const CLOUD_MODE_COMMANDS_NOTICE =
  'cloud mode: commands (missions, RTL) to IoT Hub devices are NOT dispatched — IoT Hub\'s service-side C2D and direct-method API is not implemented; ' +
  'an assignment for such a device is refused with HUB_ERR_NO_COMMAND_ROUTE and counted. Drones on the hub\'s own MQTT broker or IoT Hub-compatible endpoint are commanded as usual.';
