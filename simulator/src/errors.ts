/** Stable error codes of the simulator. Callers match on `code`, never on the message. */
export const SimErrorCodes = {
  SIM_ERR_CONFIG: 'Invalid command-line flags',
  SIM_ERR_OPTIONS: 'Invalid simulator options',
  SIM_ERR_BIND: 'Could not bind the vehicle UDP or TCP port',
  SIM_ERR_SCENARIO: 'Invalid scenario file',
  SIM_ERR_TIMEOUT: 'A harness wait timed out',
} as const;
export type SimErrorCode = keyof typeof SimErrorCodes;

export class SimError extends Error {
  constructor(readonly code: SimErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? SimErrorCodes[code], options);
    this.name = 'SimError';
  }
}
