/** Stable error codes of fleet-hub: refusals, rejects and counters use them. Match on code, never text. */
export const HubErrorCodes = {
  HUB_ERR_BAD_CREDENTIALS: 'Unknown principal or wrong secret',
  HUB_ERR_REVOKED: 'The device credential has been revoked',
  HUB_ERR_CLIENT_ID: 'A drone must connect with its own id as client id',
  HUB_ERR_ACL_PUBLISH: 'Publishing to this topic is not allowed for this principal',
  HUB_ERR_ACL_SUBSCRIBE: 'Subscribing to this topic filter is not allowed for this principal',
  HUB_ERR_PAYLOAD: 'Payload is not a valid message for its topic',
  HUB_ERR_TOPIC_MISMATCH: "The payload's droneId differs from the topic's",
  HUB_ERR_UNKNOWN_TOPIC: 'Message on a topic the hub does not handle',
  HUB_ERR_DUPLICATE: 'Duplicate status (same bootId and seq or older)',
  HUB_ERR_TOO_LARGE: 'PUBLISH payload exceeds the per-connection size limit',
  HUB_ERR_RATE: 'PUBLISH rate exceeds the per-connection limit',
  HUB_ERR_INFLIGHT: 'Inbound QoS 2 messages awaiting PUBREL exceed the per-connection limit (the connection is closed)',
  HUB_ERR_DEVICE_EXISTS: 'A device with this id already exists',
  HUB_ERR_NO_DEVICE: 'No device with this id',
  HUB_ERR_BAD_ID: 'Not a valid device id',
  HUB_ERR_CONFIG: 'Invalid hub configuration',
  HUB_ERR_C2D_QUEUE_FULL: "The device's cloud-to-device queue is full (IoT Hub: 50 messages)",
  HUB_ERR_C2D_EXPIRED: 'A cloud-to-device message expired before its device took it',
  HUB_ERR_NO_COMMAND_ROUTE: 'The hub has no way to send commands to this device (cloud mode: IoT Hub devices)',
} as const;
export type HubErrorCode = keyof typeof HubErrorCodes;

export class HubError extends Error {
  constructor(readonly code: HubErrorCode, message?: string) {
    super(message ?? HubErrorCodes[code]);
    this.name = 'HubError';
  }
}
